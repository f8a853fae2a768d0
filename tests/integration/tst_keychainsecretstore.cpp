// Runs inside tests/support/with-secret-service.sh: a real gnome-keyring on a private bus.
#include "secrets/KeychainSecretStore.h"
#include "secrets/SecretBackend.h"
#include "store/Database.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

class TestKeychainSecretStore final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void storesReadsAndRemovesBinarySecrets();
    void instancesDoNotSeeEachOther();
    void automaticModeChoosesTheKeychainAndKeepsIt();
    void aLockedKeyringFallsBackToFiles(); // last: it leaves the keyring locked
};

void TestKeychainSecretStore::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QSKIP("no D-Bus session: run through tests/support/with-secret-service.sh");
}

void TestKeychainSecretStore::storesReadsAndRemovesBinarySecrets()
{
    KeychainSecretStore store(u"instance-a"_s);
    const QByteArray secret = QByteArray("\x00\x01", 2) + "-----BEGIN PRIVATE KEY-----\xff";
    const auto written = SecretWaiter::write(store, u"signing-key/k1"_s, secret);
    QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().message));
    const auto read = SecretWaiter::read(store, u"signing-key/k1"_s);
    QVERIFY(read.ok());
    QCOMPARE(*read, secret);
    QVERIFY(SecretWaiter::remove(store, u"signing-key/k1"_s).ok());
    const auto gone = SecretWaiter::read(store, u"signing-key/k1"_s);
    QVERIFY(!gone.ok());
    QCOMPARE(gone.error().error, SecretError::NotFound);
    QVERIFY(SecretWaiter::remove(store, u"signing-key/k1"_s).ok()); // removing twice is fine
}

void TestKeychainSecretStore::instancesDoNotSeeEachOther()
{
    KeychainSecretStore first(u"instance-b"_s);
    KeychainSecretStore second(u"instance-c"_s);
    QVERIFY(SecretWaiter::write(first, u"admin-token"_s, "first").ok());
    QCOMPARE(SecretWaiter::read(second, u"admin-token"_s).error().error, SecretError::NotFound);
    QCOMPARE(*SecretWaiter::read(first, u"admin-token"_s), QByteArray("first"));
}

void TestKeychainSecretStore::automaticModeChoosesTheKeychainAndKeepsIt()
{
    QTemporaryDir dir;
    Database database;
    QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
    QObject context;
    std::optional<Result<std::shared_ptr<SecretStore>, QString>> opened;
    SecretBackend::open(
        database, dir.path(), SecretBackendMode::Automatic, &context,
        [&opened](Result<std::shared_ptr<SecretStore>, QString> result) { opened = std::move(result); });
    QTRY_VERIFY_WITH_TIMEOUT(opened.has_value(), 10000);
    QVERIFY(opened->ok());
    QCOMPARE(opened->value()->backendName(), u"keychain"_s);
    QCOMPARE(database.setting(u"secret_backend"_s), u"keychain"_s);
    QVERIFY(!QDir(dir.filePath(u"secrets"_s)).exists());
    // The probe writes, and takes its secret away again.
    std::optional<Result<QByteArray, SecretFailure>> probe;
    opened->value()->read(u"probe"_s, &context,
                          [&probe](Result<QByteArray, SecretFailure> result) { probe = std::move(result); });
    QTRY_VERIFY(probe.has_value());
    QVERIFY(!probe->ok() && probe->error().error == SecretError::NotFound);

    // Once chosen, the data directory refuses to switch to files.
    std::optional<Result<std::shared_ptr<SecretStore>, QString>> refused;
    SecretBackend::open(
        database, dir.path(), SecretBackendMode::File, &context,
        [&refused](Result<std::shared_ptr<SecretStore>, QString> result) { refused = std::move(result); });
    QTRY_VERIFY(refused.has_value());
    QVERIFY(!refused->ok());
    QVERIFY(refused->error().contains(u"keychain"_s));
}

void TestKeychainSecretStore::aLockedKeyringFallsBackToFiles()
{
    // A keyring that is locked answers reads, and wants its password at the first write: the
    // console sat at "Starting…" behind that prompt. Locked here through the Secret Service
    // itself; with no one to answer its prompt, the first write fails or waits, and automatic
    // mode keeps the keys in owner-only files within the probe's 5 s.
    QProcess lock;
    lock.start(u"dbus-send"_s,
               { u"--session"_s, u"--print-reply"_s, u"--dest=org.freedesktop.secrets"_s, u"/org/freedesktop/secrets"_s,
                 u"org.freedesktop.Secret.Service.Lock"_s,
                 u"array:objpath:/org/freedesktop/secrets/collection/login"_s });
    QVERIFY(lock.waitForFinished(10000));
    QVERIFY2(lock.exitCode() == 0, lock.readAllStandardError().constData());
    QTemporaryDir dir;
    Database database;
    QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
    QObject context;
    std::optional<Result<std::shared_ptr<SecretStore>, QString>> opened;
    QElapsedTimer timer;
    timer.start();
    SecretBackend::open(
        database, dir.path(), SecretBackendMode::Automatic, &context,
        [&opened](Result<std::shared_ptr<SecretStore>, QString> result) { opened = std::move(result); });
    QTRY_VERIFY_WITH_TIMEOUT(opened.has_value(), 10000);
    QVERIFY(opened->ok());
    QCOMPARE(opened->value()->backendName(), u"file"_s);
    QVERIFY(timer.elapsed() < 8000);
}

QTEST_GUILESS_MAIN(TestKeychainSecretStore)
#include "tst_keychainsecretstore.moc"
