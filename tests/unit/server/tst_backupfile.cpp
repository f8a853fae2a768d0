#include "store/BackupFile.h"

#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
const QByteArray passphrase = "correct horse battery staple";

BackupFile::Contents sample()
{
    return { QJsonObject { { "secrets"_L1, QJsonObject { { "cookie-key"_L1, "c2VjcmV0"_L1 } } } },
             QByteArray("SQLite format 3\0", 16) + QByteArray(8192, 'x') };
}
} // namespace

class TestBackupFile final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sealedContentsOpenAgain();
    void eachSealIsFresh();
    void damagedFilesAreRefused_data();
    void damagedFilesAreRefused();
    void anEmptyPassphraseSealsNothing();

private:
    QByteArray m_sealed;
};

void TestBackupFile::initTestCase()
{
    const auto sealed = BackupFile::seal(sample(), passphrase);
    QVERIFY2(sealed.ok(), sealed.ok() ? "" : qPrintable(sealed.error()));
    m_sealed = *sealed;
}

void TestBackupFile::sealedContentsOpenAgain()
{
    QVERIFY(m_sealed.startsWith("GATEHOUSE-BACKUP"));
    QVERIFY(!m_sealed.contains("SQLite format 3"));
    QVERIFY(!m_sealed.contains("c2VjcmV0"));
    const auto opened = BackupFile::open(m_sealed, passphrase);
    QVERIFY2(opened.ok(), opened.ok() ? "" : qPrintable(opened.error()));
    QCOMPARE(opened->secrets, sample().secrets);
    QCOMPARE(opened->database, sample().database);
}

void TestBackupFile::eachSealIsFresh()
{
    // A new salt and nonce each time: the same contents never give the same bytes.
    const auto again = BackupFile::seal(sample(), passphrase);
    QVERIFY(again.ok());
    QCOMPARE(again->size(), m_sealed.size());
    QVERIFY(*again != m_sealed);
}

void TestBackupFile::damagedFilesAreRefused_data()
{
    QTest::addColumn<int>("flipAt"); ///< -1: no flip
    QTest::addColumn<int>("keep"); ///< bytes kept; -1: all
    QTest::addColumn<QByteArray>("typed");
    QTest::addColumn<QString>("sentence");
    const QString altered = u"passphrase is wrong, or the file was altered"_s;
    QTest::newRow("wrong passphrase") << -1 << -1 << QByteArray("Correct horse battery staple") << altered;
    QTest::newRow("empty passphrase") << -1 << -1 << QByteArray() << u"passphrase is empty"_s;
    QTest::newRow("magic altered") << 0 << -1 << passphrase << u"not a Gatehouse backup"_s;
    QTest::newRow("version altered") << 16 << -1 << passphrase << u"format version"_s;
    QTest::newRow("KDF id altered") << 18 << -1 << passphrase << u"key derivation"_s;
    QTest::newRow("time cost altered") << 22 << -1 << passphrase << altered;
    QTest::newRow("lanes altered to zero") << 30 << -1 << passphrase << u"out of range"_s;
    QTest::newRow("salt altered") << 40 << -1 << passphrase << altered;
    QTest::newRow("nonce altered") << 50 << -1 << passphrase << altered;
    QTest::newRow("length altered") << 59 << -1 << passphrase << u"truncated"_s;
    QTest::newRow("ciphertext altered") << 500 << -1 << passphrase << altered;
    QTest::newRow("tag altered") << -2 << -1 << passphrase << altered;
    QTest::newRow("cut inside the header") << -1 << 40 << passphrase << u"truncated"_s;
    QTest::newRow("cut inside the ciphertext") << -1 << 4000 << passphrase << u"truncated"_s;
    QTest::newRow("only the magic") << -1 << 16 << passphrase << u"truncated"_s;
    QTest::newRow("nothing") << -1 << 0 << passphrase << u"not a Gatehouse backup"_s;
}

void TestBackupFile::damagedFilesAreRefused()
{
    QFETCH(int, flipAt);
    QFETCH(int, keep);
    QFETCH(QByteArray, typed);
    QFETCH(QString, sentence);
    QByteArray file = m_sealed;
    if (flipAt == -2)
        flipAt = static_cast<int>(file.size()) - 1;
    if (flipAt == 30)
        file[27] = file[28] = file[29] = file[30] = 0;
    else if (flipAt >= 0)
        file[flipAt] = static_cast<char>(file[flipAt] ^ 0x01);
    if (keep >= 0)
        file.truncate(keep);
    const auto opened = BackupFile::open(file, typed);
    QVERIFY(!opened.ok());
    QVERIFY2(opened.error().contains(sentence), qPrintable(opened.error()));
}

void TestBackupFile::anEmptyPassphraseSealsNothing()
{
    const auto sealed = BackupFile::seal(sample(), {});
    QVERIFY(!sealed.ok());
    QVERIFY2(sealed.error().contains(u"empty"_s), qPrintable(sealed.error()));
}

QTEST_APPLESS_MAIN(TestBackupFile)
#include "tst_backupfile.moc"
