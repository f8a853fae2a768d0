// The console's remembered admin tokens, in a real Secret Service (run inside
// tests/support/with-secret-service.sh: gnome-keyring on a private bus) and in owner-only files.
#include "RememberedTokens.h"
#include "secrets/KeychainSecretStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

namespace {
using Found = Result<std::optional<QByteArray>, QString>;

const QByteArray firstToken = "gha_" + QByteArray(43, 'a');
const QByteArray secondToken = "gha_" + QByteArray(43, 'B');
const QUrl server(u"https://gatehouse.example:8443"_s);

Found find(RememberedTokens &tokens, const QUrl &url)
{
    QObject context;
    std::optional<Found> answer;
    tokens.find(url, &context, [&answer](Found found) { answer = std::move(found); });
    if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000))
        return Found::failure(u"timeout"_s);
    return *answer;
}

QString remember(RememberedTokens &tokens, const QUrl &url, const QByteArray &token)
{
    QObject context;
    std::optional<QString> answer;
    tokens.remember(url, token, &context, [&answer](const QString &error) { answer = error; });
    return QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000) ? *answer : u"timeout"_s;
}

QString forget(RememberedTokens &tokens, const QUrl &url)
{
    QObject context;
    std::optional<QString> answer;
    tokens.forget(url, &context, [&answer](const QString &error) { answer = error; });
    return QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000) ? *answer : u"timeout"_s;
}

bool keychainAvailable()
{
    return !qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS");
}
} // namespace

class TestRememberedTokens final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void storesFindsReplacesAndForgets_data();
    void storesFindsReplacesAndForgets();
    void serverKeys_data();
    void serverKeys();
    void hostsThatLookAlikeKeepTheirOwnTokens();
    void refusesToRememberWhatIsNotAnAdminToken_data();
    void refusesToRememberWhatIsNotAnAdminToken();
    void hostileFilesGiveAClearError_data();
    void hostileFilesGiveAClearError();
    void aHostileKeychainEntryGivesAClearError();
    void anUnknownStoreIsAnError();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestRememberedTokens::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestRememberedTokens::storesFindsReplacesAndForgets_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<bool>("inKeychain");
    QTest::newRow("in the Secret Service") << u"keychain"_s << true;
    QTest::newRow("automatic mode finds the Secret Service") << u"auto"_s << true;
    QTest::newRow("in owner-only files") << u"file"_s << false;
}

void TestRememberedTokens::storesFindsReplacesAndForgets()
{
    QFETCH(QString, mode);
    QFETCH(bool, inKeychain);
    if (inKeychain && !keychainAvailable())
        QSKIP("no D-Bus session: run through tests/support/with-secret-service.sh");
    RememberedTokens tokens(mode, m_dir->path());

    auto found = find(tokens, server);
    QVERIFY2(found.ok(), qPrintable(found.ok() ? QString() : found.error()));
    QVERIFY(!found.value().has_value()); // nothing remembered yet

    QCOMPARE(remember(tokens, server, firstToken), QString());
    found = find(tokens, QUrl(u"HTTPS://Gatehouse.Example:8443/any/path"_s)); // the same server
    QVERIFY(found.ok() && found.value());
    QCOMPARE(*found.value(), firstToken);
    for (const auto *other : { "https://gatehouse.example:8444", "http://gatehouse.example:8443",
                               "https://gatehouse.example", "https://other.example:8443" }) {
        found = find(tokens, QUrl(QString::fromLatin1(other)));
        QVERIFY2(found.ok() && !found.value(), other); // another server: not its token
    }

    QCOMPARE(remember(tokens, server, secondToken), QString()); // replaced
    found = find(tokens, server);
    QVERIFY(found.ok() && found.value());
    QCOMPARE(*found.value(), secondToken);

    const QString files = m_dir->filePath(u"secrets"_s);
    if (inKeychain) {
        QVERIFY2(tokens.location().contains(u"Secret Service"_s), qPrintable(tokens.location()));
        QVERIFY(!QDir(files).exists()); // nothing went to files
    } else {
        QCOMPARE(tokens.location(), files);
        const QFileInfo file(files + u"/remembered-admin-token_https_gatehouse.example_8443"_s);
        QVERIFY(file.exists());
        QCOMPARE(file.permissions() & 0x7077, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QCOMPARE(QFileInfo(files).permissions() & 0x7077,
                 QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }

    QCOMPARE(forget(tokens, server), QString());
    found = find(tokens, server);
    QVERIFY(found.ok() && !found.value());
    QCOMPARE(forget(tokens, server), QString()); // forgetting twice is fine
}

void TestRememberedTokens::serverKeys_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("key"); // empty: refused
    QTest::newRow("the port is made explicit") << u"http://gatehouse.example"_s << u"http://gatehouse.example:80"_s;
    QTest::newRow("https's port too") << u"https://gatehouse.example/"_s << u"https://gatehouse.example:443"_s;
    QTest::newRow("case, path and query do not matter")
        << u"HTTPS://GateHouse.Example:8443/admin?x=1"_s << u"https://gatehouse.example:8443"_s;
    QTest::newRow("an IPv6 address") << u"http://[::1]:8080"_s << u"http://[::1]:8080"_s;
    QTest::newRow("an international name, in ASCII")
        << u"https://bücher.example:8443"_s << u"https://xn--bcher-kva.example:8443"_s;
    QTest::newRow("another scheme is refused") << u"ftp://gatehouse.example:21"_s << QString();
    QTest::newRow("no host is refused") << u"https://"_s << QString();
    QTest::newRow("an absurdly long host is refused")
        << u"https://%1.example"_s.arg(QString(60, u'a') + u'.' + QString(60, u'b') + u'.' + QString(60, u'c'))
        << QString();
}

void TestRememberedTokens::serverKeys()
{
    QFETCH(QString, url);
    QFETCH(QString, key);
    const auto made = RememberedTokens::serverKey(QUrl(url));
    if (key.isEmpty()) {
        QVERIFY(!made.ok());
        QVERIFY(!made.error().isEmpty());
        return;
    }
    QVERIFY2(made.ok(), qPrintable(made.ok() ? QString() : made.error()));
    QCOMPARE(*made, key);
}

void TestRememberedTokens::hostsThatLookAlikeKeepTheirOwnTokens()
{
    // "fe80::1" and "fe80--1" would share a name if ':' were simply replaced.
    RememberedTokens tokens(u"file"_s, m_dir->path());
    const QUrl address(u"http://[fe80::1]:8080"_s);
    const QUrl name(u"http://fe80--1:8080"_s);
    QCOMPARE(remember(tokens, address, firstToken), QString());
    QCOMPARE(remember(tokens, name, secondToken), QString());
    QCOMPARE(*find(tokens, address).value(), firstToken);
    QCOMPARE(*find(tokens, name).value(), secondToken);

    // A homoglyph (Cyrillic о) is another server, and finds nothing.
    const QUrl homoglyph(u"https://gatehоuse.example:8443"_s);
    QCOMPARE(remember(tokens, server, firstToken), QString());
    const auto key = RememberedTokens::serverKey(homoglyph);
    QVERIFY(key.ok() && key->startsWith(u"https://xn--"_s));
    QVERIFY(*key != *RememberedTokens::serverKey(server));
    QVERIFY(!find(tokens, homoglyph).value().has_value());
}

void TestRememberedTokens::refusesToRememberWhatIsNotAnAdminToken_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("not gha_") << QByteArray("secret-password");
    QTest::newRow("a header injection") << QByteArray("gha_abc\r\nX-Evil: 1");
    QTest::newRow("a space") << QByteArray("gha_abc def");
    QTest::newRow("far too long") << "gha_" + QByteArray(600, 'a');
}

void TestRememberedTokens::refusesToRememberWhatIsNotAnAdminToken()
{
    QFETCH(QByteArray, token);
    RememberedTokens tokens(u"file"_s, m_dir->path());
    const QString error = remember(tokens, server, token);
    QVERIFY2(error.contains(u"not an admin token"_s), qPrintable(error));
    if (!token.isEmpty())
        QVERIFY(!error.contains(QString::fromLatin1(token))); // errors never quote a token
    const auto found = find(tokens, server);
    QVERIFY(found.ok() && !found.value());
}

void TestRememberedTokens::hostileFilesGiveAClearError_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("permissions"); // octal, as chmod
    QTest::addColumn<QString>("mentions");
    QTest::newRow("a token and a newline, written by hand, is read") << firstToken + '\n' << 0600 << QString();
    QTest::newRow("binary garbage") << QByteArray("\x00\xff\xfe\x01", 4) << 0600 << u"not an admin token"_s;
    QTest::newRow("something else") << QByteArray("password=hunter2") << 0600 << u"does not start with gha_"_s;
    QTest::newRow("two lines") << QByteArray("gha_abc\ngha_def") << 0600 << u"characters"_s;
    QTest::newRow("empty") << QByteArray() << 0600 << u"empty"_s;
    QTest::newRow("long") << "gha_" + QByteArray(100000, 'a') << 0600 << u"bytes long"_s;
    QTest::newRow("larger than any secret") << QByteArray(2 * 1024 * 1024, 'a') << 0600 << u"too large"_s;
    QTest::newRow("readable by others") << firstToken << 0644 << u"readable by others"_s;
}

void TestRememberedTokens::hostileFilesGiveAClearError()
{
    QFETCH(QByteArray, content);
    QFETCH(int, permissions);
    QFETCH(QString, mentions);
    RememberedTokens tokens(u"file"_s, m_dir->path());
    QCOMPARE(remember(tokens, server, secondToken), QString()); // makes the folder
    QFile file(m_dir->filePath(u"secrets/remembered-admin-token_https_gatehouse.example_8443"_s));
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(file.write(content), content.size());
    file.close();
    // Qt's permission bits are 0x4000 (owner read) … 0x0004 (other read): set them from octal.
    QFileDevice::Permissions qtPermissions;
    const std::pair<int, QFileDevice::Permission> bits[] = {
        { 0400, QFileDevice::ReadOwner },  { 0200, QFileDevice::WriteOwner }, { 0040, QFileDevice::ReadGroup },
        { 0020, QFileDevice::WriteGroup }, { 0004, QFileDevice::ReadOther },  { 0002, QFileDevice::WriteOther },
    };
    for (const auto &[octal, permission] : bits) {
        if (permissions & octal)
            qtPermissions |= permission;
    }
    QVERIFY(QFile::setPermissions(file.fileName(), qtPermissions));

    const auto found = find(tokens, server);
    if (mentions.isEmpty()) {
        QVERIFY2(found.ok() && found.value(), qPrintable(found.ok() ? QString() : found.error()));
        QCOMPARE(*found.value(), firstToken);
        return;
    }
    QVERIFY(!found.ok());
    QVERIFY2(found.error().contains(mentions), qPrintable(found.error()));
    QVERIFY2(found.error().contains(u"https://gatehouse.example:8443"_s), qPrintable(found.error()));
    QVERIFY(found.error().size() < 1000); // says what is wrong, does not echo the content
    QCOMPARE(forget(tokens, server), QString()); // and the way out works
    QVERIFY(!file.exists());
}

void TestRememberedTokens::aHostileKeychainEntryGivesAClearError()
{
    if (!keychainAvailable())
        QSKIP("no D-Bus session: run through tests/support/with-secret-service.sh");
    // Whatever else wrote under the console's name in the keyring.
    KeychainSecretStore keychain(u"console"_s);
    QVERIFY(SecretWaiter::write(keychain, u"remembered-admin-token/https/gatehouse.example/8443"_s,
                                QByteArray("\x00gha_\xff", 6))
                .ok());
    RememberedTokens tokens(u"keychain"_s, m_dir->path());
    const auto found = find(tokens, server);
    QVERIFY(!found.ok());
    QVERIFY2(found.error().contains(u"not an admin token"_s), qPrintable(found.error()));
    QCOMPARE(forget(tokens, server), QString());
    QVERIFY(find(tokens, server).ok());
}

void TestRememberedTokens::anUnknownStoreIsAnError()
{
    QVERIFY(!RememberedTokens::isSecretStoreMode(u"vault"_s));
    QVERIFY(RememberedTokens::isSecretStoreMode(QString())); // the default, auto
    RememberedTokens tokens(u"vault"_s, m_dir->path());
    const auto found = find(tokens, server);
    QVERIFY(!found.ok());
    QVERIFY2(found.error().contains(u"unknown secret store"_s), qPrintable(found.error()));
    QVERIFY(remember(tokens, server, firstToken).contains(u"unknown secret store"_s));
}

QTEST_GUILESS_MAIN(TestRememberedTokens)
#include "tst_rememberedtokens.moc"
