#include "secrets/FileSecretStore.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

class TestFileSecretStore final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void writtenSecretIsOwnerOnly();
    void answersAreNeverSynchronous();
    void missingSecretIsNotFound();
    void hostileNamesAreRefused_data();
    void hostileNamesAreRefused();
    void secretReadableByOthersIsRefused();
    void removeDeletesAndToleratesAbsence();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<FileSecretStore> m_store;
};

void TestFileSecretStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_store = std::make_unique<FileSecretStore>(m_dir->filePath(u"secrets"_s));
}

void TestFileSecretStore::writtenSecretIsOwnerOnly()
{
    const QByteArray secret = "-----BEGIN PRIVATE KEY-----\n" + QByteArray("\x00\x01\x02\n", 4);
    QVERIFY(SecretWaiter::write(*m_store, u"signing-key/abc"_s, secret).ok());
    const QString path = m_store->pathFor(u"signing-key/abc"_s);
    QCOMPARE(QFile::permissions(path) & ~(QFileDevice::ReadUser | QFileDevice::WriteUser),
             QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QCOMPARE(QFileInfo(m_dir->filePath(u"secrets"_s)).permissions() & (QFileDevice::ReadOther | QFileDevice::ExeOther),
             QFileDevice::Permissions());
    QCOMPARE(*SecretWaiter::read(*m_store, u"signing-key/abc"_s), secret);
    QVERIFY(SecretWaiter::write(*m_store, u"signing-key/abc"_s, "replaced").ok());
    QCOMPARE(*SecretWaiter::read(*m_store, u"signing-key/abc"_s), QByteArray("replaced"));
}

void TestFileSecretStore::answersAreNeverSynchronous()
{
    QObject context;
    bool answered = false;
    m_store->read(u"anything"_s, &context, [&answered](Result<QByteArray, SecretFailure>) { answered = true; });
    QVERIFY(!answered); // like the keychain: the answer comes from the event loop
    QTRY_VERIFY(answered);
}

void TestFileSecretStore::missingSecretIsNotFound()
{
    const auto result = SecretWaiter::read(*m_store, u"absent"_s);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().error, SecretError::NotFound);
}

void TestFileSecretStore::hostileNamesAreRefused_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("parent directory refused") << u"../escape"_s;
    QTest::newRow("nested parent refused") << u"a/../../escape"_s;
    QTest::newRow("absolute path refused") << u"/etc/passwd"_s;
    QTest::newRow("empty name refused") << u""_s;
    QTest::newRow("NUL in name refused") << QString(u"a\0b"_s);
    QTest::newRow("newline in name refused") << u"a\nb"_s;
}

void TestFileSecretStore::hostileNamesAreRefused()
{
    QFETCH(QString, name);
    QVERIFY(m_store->pathFor(name).isEmpty());
    QVERIFY(!SecretWaiter::write(*m_store, name, "x").ok());
    QVERIFY(!SecretWaiter::read(*m_store, name).ok());
    QVERIFY(!QFile::exists(m_dir->filePath(u"escape"_s)));
}

void TestFileSecretStore::secretReadableByOthersIsRefused()
{
    QVERIFY(SecretWaiter::write(*m_store, u"k"_s, "secret").ok());
    QVERIFY(QFile::setPermissions(m_store->pathFor(u"k"_s),
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadOther));
    const auto result = SecretWaiter::read(*m_store, u"k"_s);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().error, SecretError::AccessDenied);
    QVERIFY(result.error().message.contains(u"chmod 600"_s));
}

void TestFileSecretStore::removeDeletesAndToleratesAbsence()
{
    QVERIFY(SecretWaiter::write(*m_store, u"k"_s, "secret").ok());
    QVERIFY(SecretWaiter::remove(*m_store, u"k"_s).ok());
    QCOMPARE(SecretWaiter::read(*m_store, u"k"_s).error().error, SecretError::NotFound);
    QVERIFY(SecretWaiter::remove(*m_store, u"k"_s).ok());
}

QTEST_GUILESS_MAIN(TestFileSecretStore)
#include "tst_filesecretstore.moc"
