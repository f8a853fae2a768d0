#include "identity/PasswordHasher.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"
#include "store/Migrations.h"

#include <QFile>
#include <QSet>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include "ManualClock.h"

using namespace Qt::StringLiterals;

class TestUserDirectory final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void passwordHashIsArgon2idWithOwaspParameters();
    void addedUserAuthenticates();
    void addRefusesBadInput_data();
    void addRefusesBadInput();
    void usernamesAreUniqueWithoutRegardToCase();
    void canonicalNameFollowsTheLookup_data();
    void canonicalNameFollowsTheLookup();
    void everyCaseVariantIsOneName();
    void disabledUserCannotLogIn();
    void passwordChangeReplacesTheOldOne();
    void rolesAreReplacedAndSorted();
    void changesAreAnnounced();
    void unknownUserIsAnError();
    void databaseSurvivesReopening();
    void damagedDatabaseIsAClearError();
    void newerSchemaIsRefused();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_database;
    ManualClock m_clock;
    std::unique_ptr<UserDirectory> m_users;
};

void TestUserDirectory::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_database = std::make_unique<Database>();
    QVERIFY2(m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)), qPrintable(m_database->errorString()));
    m_users = std::make_unique<UserDirectory>(*m_database, m_clock);
}

void TestUserDirectory::cleanup()
{
    m_users.reset();
    m_database.reset();
    m_dir.reset();
}

void TestUserDirectory::passwordHashIsArgon2idWithOwaspParameters()
{
    const QByteArray hash = PasswordHasher::hash("correct horse");
    QVERIFY(hash.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
    QVERIFY(PasswordHasher::verify("correct horse", hash));
    QVERIFY(!PasswordHasher::verify("correct hors", hash));
    QVERIFY(PasswordHasher::hash("correct horse") != hash); // salted
    QVERIFY(!PasswordHasher::verify("x", "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
    QVERIFY(!PasswordHasher::verify("x", "garbage"));
}

void TestUserDirectory::addedUserAuthenticates()
{
    const auto user = m_users->add(u"alice"_s, u"Alice Liddell"_s, "wonderland-2026", { u"admin"_s });
    QVERIFY(user.ok());
    QCOMPARE(user->displayName, u"Alice Liddell"_s);
    QCOMPARE(user->roles, QStringList { u"admin"_s });
    QVERIFY(user->enabled);
    QCOMPARE(user->createdAt, m_clock.nowSeconds());
    QVERIFY(m_users->authenticate(u"alice"_s, "wonderland-2026").ok());
    QCOMPARE(m_users->authenticate(u"alice"_s, "wonderland-2025").error(), UserError::BadCredentials);
    QCOMPARE(m_users->authenticate(u"nobody"_s, "wonderland-2026").error(), UserError::BadCredentials);
    QCOMPARE(m_users->authenticate(u"alice"_s, QByteArray(5000, 'x')).error(), UserError::BadCredentials);
    QSqlQuery query(m_database->connection());
    QVERIFY(query.exec(u"SELECT password_hash FROM users"_s) && query.next());
    QVERIFY(!query.value(0).toString().contains(u"wonderland"_s));
}

void TestUserDirectory::addRefusesBadInput_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("displayName");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QStringList>("roles");
    QTest::addColumn<UserError>("error");

    QTest::newRow("empty username refused")
        << u""_s << u""_s << QByteArray("long enough") << QStringList() << UserError::InvalidUsername;
    QTest::newRow("Cyrillic look-alike username refused")
        << u"\u0430dmin"_s << u""_s << QByteArray("long enough") << QStringList() << UserError::InvalidUsername;
    QTest::newRow("username with a space refused")
        << u"al ice"_s << u""_s << QByteArray("long enough") << QStringList() << UserError::InvalidUsername;
    QTest::newRow("username starting with a dot refused")
        << u".alice"_s << u""_s << QByteArray("long enough") << QStringList() << UserError::InvalidUsername;
    QTest::newRow("\"system\", the audit's name for the server, refused")
        << u"system"_s << u""_s << QByteArray("long enough") << QStringList() << UserError::ReservedUsername;
    QTest::newRow("\"System\" too: names ignore case")
        << u"System"_s << u""_s << QByteArray("long enough") << QStringList() << UserError::ReservedUsername;
    QTest::newRow("65-character username refused")
        << QString(65, u'a') << u""_s << QByteArray("long enough") << QStringList() << UserError::InvalidUsername;
    QTest::newRow("SQL in the username refused") << u"a'; DROP TABLE users;--"_s << u""_s << QByteArray("long enough")
                                                 << QStringList() << UserError::InvalidUsername;
    QTest::newRow("display name with a control character refused")
        << u"alice"_s << u"Al\u0007ice"_s << QByteArray("long enough") << QStringList()
        << UserError::InvalidDisplayName;
    QTest::newRow("seven-character password refused")
        << u"alice"_s << u""_s << QByteArray("1234567") << QStringList() << UserError::WeakPassword;
    QTest::newRow("password over 1024 bytes refused")
        << u"alice"_s << u""_s << QByteArray(1025, 'p') << QStringList() << UserError::PasswordTooLong;
    QTest::newRow("upper-case role refused")
        << u"alice"_s << u""_s << QByteArray("long enough") << QStringList { u"Admin"_s } << UserError::InvalidRole;
    QTest::newRow("empty role refused") << u"alice"_s << u""_s << QByteArray("long enough") << QStringList { u""_s }
                                        << UserError::InvalidRole;
    QStringList tooMany;
    for (int i = 0; i < 33; ++i)
        tooMany.append(u"r%1"_s.arg(i));
    QTest::newRow("33 roles refused") << u"alice"_s << u""_s << QByteArray("long enough") << tooMany
                                      << UserError::InvalidRole;
}

void TestUserDirectory::addRefusesBadInput()
{
    QFETCH(QString, username);
    QFETCH(QString, displayName);
    QFETCH(QByteArray, password);
    QFETCH(QStringList, roles);
    QFETCH(UserError, error);
    const auto result = m_users->add(username, displayName, password, roles);
    QVERIFY(!result.ok());
    QCOMPARE(result.error(), error);
    QVERIFY(m_users->list().isEmpty()); // nothing half-written
}

void TestUserDirectory::usernamesAreUniqueWithoutRegardToCase()
{
    QVERIFY(m_users->add(u"alice"_s, {}, "long enough", {}).ok());
    QCOMPARE(m_users->add(u"ALICE"_s, {}, "long enough", {}).error(), UserError::AlreadyExists);
    QCOMPARE(m_users->list().size(), 1);
}

void TestUserDirectory::canonicalNameFollowsTheLookup_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QString>("canonical");
    QTest::addColumn<bool>("exists");
    QTest::newRow("the stored spelling typed exactly") << u"Alice"_s << u"Alice"_s << true;
    QTest::newRow("the stored spelling whatever the case typed") << u"aLIcE"_s << u"Alice"_s << true;
    QTest::newRow("an unknown name folded to lower case") << u"MaLLoRy"_s << u"mallory"_s << false;
    QTest::newRow("digits and punctuation unchanged") << u"Bob.Smith-2@X"_s << u"bob.smith-2@x"_s << false;
    // Look-alikes that the lookup does not take for the user are other names.
    QTest::newRow("the Kelvin sign is not a K") << u"\u212Aarl"_s << u"\u212Aarl"_s << false;
    QTest::newRow("a dotted capital I is not an i") << u"\u0130nes"_s << u"\u0130nes"_s << false;
    QTest::newRow("fullwidth letters are not ASCII") << u"\uFF41lice"_s << u"\uFF41lice"_s << false;
    QTest::newRow("a trailing space is another name") << u"alice "_s << u"alice "_s << false;
    QTest::newRow("the empty name") << QString() << QString() << false;
}

void TestUserDirectory::canonicalNameFollowsTheLookup()
{
    QFETCH(QString, typed);
    QFETCH(QString, canonical);
    QFETCH(bool, exists);
    for (const auto &name : { u"Alice"_s, u"karl"_s, u"ines"_s })
        QVERIFY(m_users->add(name, {}, "long enough", {}).ok());
    const auto name = m_users->canonicalName(typed);
    QCOMPARE(name.name, canonical);
    QCOMPARE(name.exists, exists);
    // The count and the password check agree on who is meant.
    QCOMPARE(m_users->find(typed).has_value(), exists);
    QCOMPARE(m_users->canonicalName(canonical).name, canonical);
}

void TestUserDirectory::everyCaseVariantIsOneName()
{
    QVERIFY(m_users->add(u"alice"_s, {}, "long enough", {}).ok());
    QSet<QString> known;
    QSet<QString> unknown;
    for (int mask = 0; mask < 32; ++mask) {
        QString variant = u"alice"_s;
        QString other = u"zelda"_s;
        for (int i = 0; i < 5; ++i) {
            if (mask & (1 << i)) {
                variant[i] = variant[i].toUpper();
                other[i] = other[i].toUpper();
            }
        }
        known.insert(m_users->canonicalName(variant).name);
        unknown.insert(m_users->canonicalName(other).name);
    }
    QCOMPARE(known, QSet<QString> { u"alice"_s });
    QCOMPARE(unknown, QSet<QString> { u"zelda"_s });
}

void TestUserDirectory::disabledUserCannotLogIn()
{
    QVERIFY(m_users->add(u"bob"_s, {}, "long enough", {}).ok());
    QVERIFY(m_users->setEnabled(u"bob"_s, false).ok());
    QCOMPARE(m_users->authenticate(u"bob"_s, "long enough").error(), UserError::Disabled);
    QCOMPARE(m_users->authenticate(u"bob"_s, "wrong password").error(), UserError::BadCredentials);
    QVERIFY(m_users->setEnabled(u"bob"_s, true).ok());
    QVERIFY(m_users->authenticate(u"bob"_s, "long enough").ok());
}

void TestUserDirectory::passwordChangeReplacesTheOldOne()
{
    QVERIFY(m_users->add(u"carol"_s, {}, "first password", {}).ok());
    m_clock.advance(std::chrono::seconds(60));
    const auto changed = m_users->setPassword(u"carol"_s, "second password");
    QVERIFY(changed.ok());
    QCOMPARE(changed->passwordChangedAt, m_clock.nowSeconds());
    QVERIFY(!m_users->authenticate(u"carol"_s, "first password").ok());
    QVERIFY(m_users->authenticate(u"carol"_s, "second password").ok());
    QCOMPARE(m_users->setPassword(u"carol"_s, "short").error(), UserError::WeakPassword);
    QVERIFY(m_users->authenticate(u"carol"_s, "second password").ok());
}

void TestUserDirectory::rolesAreReplacedAndSorted()
{
    QVERIFY(m_users->add(u"dave"_s, {}, "long enough", { u"ops"_s }).ok());
    QCOMPARE(m_users->setRoles(u"dave"_s, { u"viewer"_s, u"admin"_s, u"admin"_s })->roles,
             (QStringList { u"admin"_s, u"viewer"_s }));
    QCOMPARE(m_users->setRoles(u"dave"_s, { u"Bad Role"_s }).error(), UserError::InvalidRole);
    QCOMPARE(m_users->find(u"dave"_s)->roles, (QStringList { u"admin"_s, u"viewer"_s }));
}

void TestUserDirectory::changesAreAnnounced()
{
    QSignalSpy changed(m_users.get(), &UserDirectory::userChanged);
    QVERIFY(m_users->add(u"erin"_s, {}, "long enough", {}).ok());
    QVERIFY(m_users->setEnabled(u"erin"_s, false).ok());
    QVERIFY(m_users->setRoles(u"erin"_s, { u"x"_s }).ok());
    QVERIFY(!m_users->setRoles(u"nobody"_s, { u"x"_s }).ok());
    QCOMPARE(changed.count(), 3);
    QCOMPARE(changed.at(1).at(0).toString(), u"erin"_s);
}

void TestUserDirectory::unknownUserIsAnError()
{
    QCOMPARE(m_users->setEnabled(u"ghost"_s, false).error(), UserError::NotFound);
    QCOMPARE(m_users->setPassword(u"ghost"_s, "long enough").error(), UserError::NotFound);
    QVERIFY(!m_users->find(u"ghost"_s));
}

void TestUserDirectory::databaseSurvivesReopening()
{
    QVERIFY(m_users->add(u"frank"_s, {}, "long enough", { u"admin"_s }).ok());
    m_users.reset();
    m_database->close();
    QVERIFY(m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)));
    QCOMPARE(m_database->schemaVersion(), int(Migrations::steps().size()));
    UserDirectory reopened(*m_database, m_clock);
    QCOMPARE(reopened.find(u"frank"_s)->roles, QStringList { u"admin"_s });
    QVERIFY(reopened.authenticate(u"frank"_s, "long enough").ok());
    QCOMPARE(QFile::permissions(m_dir->filePath(u"gatehouse.sqlite"_s))
                 & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
             QFileDevice::Permissions());
}

void TestUserDirectory::damagedDatabaseIsAClearError()
{
    const QString path = m_dir->filePath(u"garbage.sqlite"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(8192, '\x5a'));
    file.close();
    Database database;
    QVERIFY(!database.open(path));
    QVERIFY2(database.errorString().contains(u"garbage.sqlite"_s), qPrintable(database.errorString()));
}

void TestUserDirectory::newerSchemaIsRefused()
{
    QSqlQuery query(m_database->connection());
    QVERIFY(query.exec(u"PRAGMA user_version=99"_s));
    m_users.reset();
    m_database->close();
    QVERIFY(!m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)));
    QVERIFY2(m_database->errorString().contains(u"newer"_s), qPrintable(m_database->errorString()));
}

QTEST_GUILESS_MAIN(TestUserDirectory)
#include "tst_userdirectory.moc"
