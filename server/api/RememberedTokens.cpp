#include "RememberedTokens.h"

#include "config/DataDirectory.h"
#include "secrets/SecretBackend.h"
#include "secrets/SecretStore.h"

#include <QPointer>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace {
const auto keychainPrefix = u"console"_s;
const auto namePrefix = u"remembered-admin-token/"_s;
constexpr qsizetype longestName = 200; // file names stop at 255 bytes
constexpr qsizetype longestToken = 512;

/// The secret's name: readable, and one name per key ("_XX" for any byte outside [a-z0-9.-],
/// '_' included, so that two hosts never share a name).
QString secretName(const QUrl &server)
{
    QString host;
    for (const char byte : server.host(QUrl::FullyEncoded).toLower().toUtf8()) {
        const bool plain = (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '.' || byte == '-';
        host += plain ? QString(QChar::fromLatin1(byte))
                      : u"_%1"_s.arg(uint(static_cast<unsigned char>(byte)), 2, 16, QChar(u'0')).toUpper();
    }
    return namePrefix + server.scheme() + u'/' + host + u'/'
        + QString::number(server.port(server.scheme() == "https"_L1 ? 443 : 80));
}

/// Why `token` is not an admin token, or empty. Never quotes the token.
QString tokenProblem(const QByteArray &token)
{
    static const QRegularExpression shape(u"^gha_[A-Za-z0-9_-]+$"_s);
    if (token.isEmpty())
        return u"it is empty"_s;
    if (token.size() > longestToken)
        return u"it is %1 bytes long"_s.arg(token.size());
    if (!token.startsWith("gha_"))
        return u"it does not start with gha_"_s;
    if (!shape.match(QString::fromLatin1(token)).hasMatch())
        return u"it holds characters an admin token does not"_s;
    return {};
}

template<typename Callback, typename... Arguments>
void answer(const QPointer<QObject> &context, const Callback &done, Arguments &&...arguments)
{
    if (context)
        done(std::forward<Arguments>(arguments)...);
}
} // namespace

RememberedTokens::RememberedTokens(const QString &secretStore, const QString &dataDirectory, QObject *parent)
    : QObject(parent)
    , m_mode(secretStore.isEmpty() ? u"auto"_s : secretStore)
    , m_dataDirectory(DataDirectory::resolve(dataDirectory))
{
}

RememberedTokens::~RememberedTokens() = default;

bool RememberedTokens::isSecretStoreMode(const QString &name)
{
    return name.isEmpty() || SecretBackend::modeFromName(name).has_value();
}

Result<QString, QString> RememberedTokens::serverKey(const QUrl &server)
{
    if (!server.isValid() || (server.scheme() != "http"_L1 && server.scheme() != "https"_L1) || server.host().isEmpty())
        return fail(u"a server is http://host:port or https://host:port"_s);
    if (secretName(server).size() > longestName)
        return fail(u"the host name is too long to remember a token for"_s);
    QUrl key;
    key.setScheme(server.scheme());
    key.setHost(server.host(QUrl::FullyEncoded).toLower());
    key.setPort(server.port(server.scheme() == "https"_L1 ? 443 : 80));
    return key.toString(QUrl::FullyEncoded);
}

QString RememberedTokens::location() const
{
    return m_store && m_store->ok() ? m_store->value()->location() : QString();
}

void RememberedTokens::withStore(StoreReady use)
{
    if (m_store) {
        // Same contract as the stores: the answer comes from the event loop, not from inside the call.
        QMetaObject::invokeMethod(
            this, [this, use = std::move(use)] { use(*m_store); }, Qt::QueuedConnection);
        return;
    }
    m_waiting.push_back(std::move(use));
    if (std::exchange(m_opening, true))
        return;
    auto opened = [this](Store store) {
        m_store = std::move(store);
        for (const auto &waiting : std::exchange(m_waiting, {}))
            waiting(*m_store);
    };
    const auto mode = SecretBackend::modeFromName(m_mode);
    if (!mode) {
        const QString error = u"unknown secret store \"%1\" (auto, keychain or file)"_s.arg(m_mode);
        QMetaObject::invokeMethod(
            this, [opened, error] { opened(Store::failure(error)); }, Qt::QueuedConnection);
        return;
    }
    if (*mode == SecretBackendMode::File) {
        // The owner-only folder the files go in is made as a data directory is.
        if (const auto prepared = DataDirectory::prepare(m_dataDirectory); !prepared) {
            QMetaObject::invokeMethod(
                this, [opened, error = prepared.error()] { opened(Store::failure(error)); }, Qt::QueuedConnection);
            return;
        }
    }
    SecretBackend::openUnrecorded(keychainPrefix, m_dataDirectory + u"/secrets"_s, *mode, this, opened);
}

void RememberedTokens::find(const QUrl &server, QObject *context, Found done)
{
    using Answer = Result<std::optional<QByteArray>, QString>;
    const auto key = serverKey(server);
    QPointer<QObject> guard(context);
    if (!key)
        return withStore(
            [guard, done, error = key.error()](const Store &) { answer(guard, done, Answer::failure(error)); });
    withStore([guard, done, key = *key, name = secretName(server)](const Store &store) {
        if (!store)
            return answer(guard, done, Answer::failure(store.error()));
        if (!guard)
            return;
        const QString where = store.value()->location();
        store.value()->read(name, guard, [guard, done, key, where](Result<QByteArray, SecretFailure> read) {
            if (!read.ok() && read.error().error == SecretError::NotFound)
                return answer(guard, done, Answer(std::nullopt));
            if (!read.ok())
                return answer(guard, done,
                              Answer::failure(
                                  u"the token remembered for %1 cannot be read: %2"_s.arg(key, read.error().message)));
            const QByteArray token = read.value().trimmed(); // a hand-written file may end in a newline
            if (const QString problem = tokenProblem(token); !problem.isEmpty())
                return answer(guard, done,
                              Answer::failure(u"the token remembered for %1 in %2 is not an admin token: %3"_s.arg(
                                  key, where, problem)));
            answer(guard, done, Answer(std::optional(token)));
        });
    });
}

void RememberedTokens::remember(const QUrl &server, const QByteArray &token, QObject *context, Done done)
{
    QPointer<QObject> guard(context);
    const auto key = serverKey(server);
    QString refused = key ? QString() : key.error();
    if (const QString problem = tokenProblem(token); refused.isEmpty() && !problem.isEmpty())
        refused = u"this is not an admin token: "_s + problem;
    if (!refused.isEmpty())
        return withStore([guard, done, refused](const Store &) { answer(guard, done, refused); });
    withStore([guard, done, token, key = *key, name = secretName(server)](const Store &store) {
        if (!store)
            return answer(guard, done, store.error());
        if (!guard)
            return;
        store.value()->write(name, token, guard, [guard, done, key](Result<bool, SecretFailure> written) {
            answer(guard, done,
                   written.ok() ? QString()
                                : u"the token for %1 cannot be remembered: %2"_s.arg(key, written.error().message));
        });
    });
}

void RememberedTokens::forget(const QUrl &server, QObject *context, Done done)
{
    QPointer<QObject> guard(context);
    const auto key = serverKey(server);
    if (!key)
        return withStore([guard, done, error = key.error()](const Store &) { answer(guard, done, error); });
    withStore([guard, done, key = *key, name = secretName(server)](const Store &store) {
        if (!store)
            return answer(guard, done, store.error());
        if (!guard)
            return;
        store.value()->remove(name, guard, [guard, done, key](Result<bool, SecretFailure> removed) {
            answer(guard, done,
                   removed.ok()
                       ? QString()
                       : u"the token remembered for %1 cannot be forgotten: %2"_s.arg(key, removed.error().message));
        });
    });
}
