// ConfigFile::load on a config file with any content, in a folder that also holds the key files
// a trusted issuer may name (issuer.jwks.json, ec-public.pem, secret.txt, …), and the key set
// the server then builds from it. The file is the administrator's, not a stranger's; it is
// fuzzed because a typo in it must be a sentence, never a crash.
#include "FuzzCheck.h"

#include "auth/KeySet.h"
#include "config/ConfigFile.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <cstdlib>

using namespace Qt::StringLiterals;

namespace {
void write(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size())
        std::abort();
}

/// A crash ends the process without destructors, so its folder stays behind: the folders are
/// named after their process, and those of processes that are gone are removed.
void removeAbandonedFolders(const QString &base)
{
    const auto folders = QDir(base).entryList({ u"gatehouse-fuzz-*"_s }, QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &name : folders) {
        bool numeric = false;
        const qint64 pid = name.section(u'-', 2, 2).toLongLong(&numeric);
        if (numeric && !QFileInfo::exists(u"/proc/%1"_s.arg(pid)))
            QDir(base + u'/' + name).removeRecursively();
    }
}

const QTemporaryDir &folder()
{
    static const QTemporaryDir instance = [] {
        // In memory where there is a tmpfs: the file is rewritten at every input, and on ext4 a
        // truncated file is flushed when it is closed, which waits on a busy disk.
        const QString base = QFileInfo(u"/dev/shm"_s).isWritable() ? u"/dev/shm"_s : QDir::tempPath();
        removeAbandonedFolders(base);
        QTemporaryDir dir(base + u"/gatehouse-fuzz-%1-XXXXXX"_s.arg(QCoreApplication::applicationPid()));
        if (!dir.isValid())
            std::abort();
        const auto rsa = JsonWebKey::generate(JwsAlgorithm::RS256);
        const auto ec = JsonWebKey::generate(JwsAlgorithm::ES256);
        if (!rsa || !ec)
            std::abort();
        const QJsonArray publicKeys { rsa->publicJwk(), ec->publicJwk() };
        write(dir.filePath(u"issuer.jwks.json"_s), QJsonDocument(QJsonObject { { "keys"_L1, publicKeys } }).toJson());
        write(dir.filePath(u"ec-public.pem"_s), ec->publicKeyPem());
        write(dir.filePath(u"private.pem"_s), ec->privateKeyMaterial());
        write(dir.filePath(u"secret.txt"_s), "a shared secret that is at least 32 bytes long\n");
        write(dir.filePath(u"short-secret.txt"_s), "too short");
        write(dir.filePath(u"not-json.json"_s), "{ nope");
        const QJsonObject secret {
            { "kty"_L1, "oct"_L1 }, { "alg"_L1, "HS256"_L1 }, { "kid"_L1, "s"_L1 }, { "k"_L1, QString(43, u'A') }
        };
        write(dir.filePath(u"mixed.jwks.json"_s),
              QJsonDocument(QJsonObject { { "keys"_L1, QJsonArray { rsa->publicJwk(), secret } } }).toJson());
        return dir;
    }();
    return instance;
}

void checkLoaded(const ServerConfig &config)
{
    FUZZ_CHECK(config.clockSkew.count() >= 0 && config.clockSkew.count() <= 300);
    FUZZ_CHECK(config.accessTokenLifetime.count() >= 5);
    FUZZ_CHECK(config.accessTokenLifetime <= config.maximumAccessTokenLifetime);
    FUZZ_CHECK(config.maximumMessageSize >= 1024 && config.maximumMessageSize <= 16 * 1024 * 1024);
    FUZZ_CHECK(config.maximumConnections >= 1 && config.maximumConnectionsPerUser >= 1);
    FUZZ_CHECK(config.handshakeTimeout.count() >= 1000 && config.handshakeTimeout.count() <= 120000);
    FUZZ_CHECK(config.ioThreads >= 0 && config.ioThreads <= 64);
    FUZZ_CHECK(!config.issuer.trimmed().isEmpty() && !config.audience.trimmed().isEmpty());
    FUZZ_CHECK(!config.allowedOrigins.contains(QString()));
    for (const auto &trusted : config.trustedIssuers) {
        FUZZ_CHECK(!trusted.keys.isEmpty() && !trusted.policy.issuer.isEmpty() && !trusted.policy.audience.isEmpty());
        FUZZ_CHECK(!trusted.policy.local);
        for (const auto &key : trusted.keys)
            FUZZ_CHECK(key.isSymmetric() || !key.hasPrivateKey());
    }
    // What the server builds next: its key set, with its own key beside the trusted ones.
    static const auto own = JsonWebKey::fromSecret(QByteArray(32, 'k'), JwsAlgorithm::HS256, u"own"_s);
    const IssuerPolicy local { config.issuer, config.audience, u"at+jwt"_s, true };
    const auto keys = KeySet::build({ *own }, local, config.trustedIssuers);
    FUZZ_CHECK(keys.ok() || !keys.error().isEmpty());
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = folder().filePath(u"gatehouse.json"_s);
    write(path, QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)));
    const auto config = ConfigFile::load(path, ServerConfig());
    if (!config) {
        FUZZ_CHECK(config.error().startsWith(u"gatehouse.json: "_s) || config.error().startsWith(path));
        return 0;
    }
    checkLoaded(*config);
    return 0;
}
