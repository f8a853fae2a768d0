// Drives the real gatehoused binary as a child process: real SQLite files, real sockets on
// 127.0.0.1, and no Secret Service (so the file fallback and its warning are exercised).
#include "GatehousedProcess.h"
#include "auth/Base64Url.h"
#include "auth/JsonWebKeySet.h"
#include "auth/KeySet.h"
#include "auth/TokenVerifier.h"
#include "store/Database.h"
#include "store/Migrations.h"
#include "tls/TlsCertificate.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <csignal>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
using Outcome = GatehousedOutcome;
} // namespace

class TestGatehoused final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void userLifecycleAndMintedTokenVerifies();
    void badInvocationsFailClearly_data();
    void badInvocationsFailClearly();
    void rotationKeepsEarlierTokensValid();
    void serveAnswersHealthAndJwksAndRefusesUpgrades();
    void serveAcceptsOurTokensAndATrustedIssuers();
    void serveReportsATakenPort();
    void serveRefusesBadTlsFilesInOneSentence();
    void sighupReloadsTheCertificateAndTlsShowPrintsIt();
    void auditVerifyAndExport();
    void acknowledgedStateSurvivesKillDashNine();
    void oidcClientsAreRegisteredListedAndRemoved();
    void namedAdminTokensWorkOnARunningServer();
    void theCommandLineActsOnARunningServer();
    void checkConfigSaysWhatServeWouldRefuse();
    void statusAsksTheRunningServer();
    void rootDoesNotWriteIntoAnotherUsersData();
    void anUpgradeFromTheOldestSchemaKeepsTheData();

private:
    Outcome run(const QStringList &arguments, const QByteArray &input = {}) const;
    QProcessEnvironment environment() const;
    std::optional<TokenVerifier> verifierFromJwks() const;
    quint16 startServer(QProcess &server) const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestGatehoused::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
}

QProcessEnvironment TestGatehoused::environment() const
{
    return GatehousedProcess::environment();
}

Outcome TestGatehoused::run(const QStringList &arguments, const QByteArray &input) const
{
    return GatehousedProcess::run(QStringList(arguments) << u"--data-dir"_s << m_dir->filePath(u"data"_s), input,
                                  60000);
}

std::optional<TokenVerifier> TestGatehoused::verifierFromJwks() const
{
    const auto jwks = run({ u"keys"_s, u"jwks"_s });
    const auto keys
        = JsonWebKeySet::parse(QJsonDocument::fromJson(jwks.out.toUtf8()).object(), JsonWebKeySet::Symmetric::Refused);
    if (!keys)
        return std::nullopt;
    const auto set = KeySet::build(*keys, IssuerPolicy { u"gatehouse"_s, u"gatehouse"_s, u"at+jwt"_s, true }, {});
    return TokenVerifier(*set, {});
}

void TestGatehoused::userLifecycleAndMintedTokenVerifies()
{
    const auto added = run({ u"user"_s, u"add"_s, u"alice"_s, u"--role"_s, u"admin"_s, u"--display-name"_s, u"Alice"_s,
                             u"--password-stdin"_s },
                           "correct horse battery\n");
    QCOMPARE(added.exitCode, 0);
    QVERIFY(added.out.contains(u"added alice"_s));

    const auto listed = run({ u"user"_s, u"list"_s, u"--json"_s });
    QCOMPARE(listed.exitCode, 0);
    const auto users = QJsonDocument::fromJson(listed.out.toUtf8()).array();
    QCOMPARE(users.size(), 1);
    QCOMPARE(users[0]["username"_L1].toString(), u"alice"_s);
    QCOMPARE(users[0]["roles"_L1].toArray(), QJsonArray { "admin"_L1 });
    QVERIFY(!listed.out.contains(u"argon2"_s));

    QCOMPARE(run({ u"user"_s, u"disable"_s, u"alice"_s }).exitCode, 0);
    const auto refused = run({ u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"laptop"_s });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(u"disabled"_s), qPrintable(refused.err));
    QVERIFY(refused.out.isEmpty());
    QCOMPARE(run({ u"user"_s, u"enable"_s, u"alice"_s }).exitCode, 0);

    const auto minted
        = run({ u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"laptop"_s, u"--ttl"_s, u"120"_s });
    QCOMPARE(minted.exitCode, 0);
    // The first command that needed keys chose the backend: with no Secret Service here, the
    // file fallback was announced, and later commands keep it silently.
    QVERIFY2(refused.err.contains(u"no usable Secret Service"_s), qPrintable(refused.err));
    QVERIFY(!minted.err.contains(u"Secret Service"_s));
    QVERIFY(QFile::exists(m_dir->filePath(u"data/secrets"_s)));
    const auto tooLong
        = run({ u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"laptop"_s, u"--ttl"_s, u"90000"_s });
    QCOMPARE(tooLong.exitCode, 1);
    QVERIFY2(tooLong.err.contains(u"at most 86400"_s), qPrintable(tooLong.err));
    const auto verifier = verifierFromJwks();
    QVERIFY(verifier);
    const auto claims = verifier->verify(minted.out.trimmed().toLatin1(), std::chrono::system_clock::now());
    QVERIFY2(claims.ok(), claims.ok() ? "" : tokenErrorCode(claims.error()).data());
    QCOMPARE(claims->subject, u"alice"_s);
    QCOMPARE(claims->deviceId, u"laptop"_s);
    QCOMPARE(claims->roles, QStringList { u"admin"_s });
    QVERIFY(claims->expiresAt - claims->issuedAt == 120);

    const auto passwd = run({ u"user"_s, u"passwd"_s, u"alice"_s, u"--password-stdin"_s }, "a new password\n");
    QCOMPARE(passwd.exitCode, 0);
    QCOMPARE(QFile::permissions(m_dir->filePath(u"data/gatehouse.sqlite"_s)) & QFileDevice::ReadOther,
             QFileDevice::Permissions());
}

void TestGatehoused::badInvocationsFailClearly_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("unknown command exits 2")
        << QStringList { u"launch"_s } << QByteArray() << 2 << u"unknown command"_s;
    QTest::newRow("password flag exits 2")
        << QStringList { u"user"_s, u"add"_s, u"bob"_s, u"--password"_s, u"hunter22"_s } << QByteArray() << 2
        << u"password"_s;
    QTest::newRow("weak password refused") << QStringList { u"user"_s, u"add"_s, u"bob"_s, u"--password-stdin"_s }
                                           << QByteArray("short\n") << 1 << u"at least 8"_s;
    QTest::newRow("empty standard input refused")
        << QStringList { u"user"_s, u"add"_s, u"bob"_s, u"--password-stdin"_s } << QByteArray() << 1
        << u"no password"_s;
    QTest::newRow("5000-byte password line refused")
        << QStringList { u"user"_s, u"add"_s, u"bob"_s, u"--password-stdin"_s } << QByteArray(5000, 'p') + '\n'
        << 1 << u"4096"_s;
    QTest::newRow("prompt without a terminal refused")
        << QStringList { u"user"_s, u"add"_s, u"bob"_s } << QByteArray("secret123\n") << 1 << u"--password-stdin"_s;
    QTest::newRow("homoglyph username refused")
        << QStringList { u"user"_s, u"add"_s, u"\u0430dmin"_s, u"--password-stdin"_s } << QByteArray("long enough\n")
        << 1 << u"username"_s;
    QTest::newRow("disabling a missing user refused")
        << QStringList { u"user"_s, u"disable"_s, u"ghost"_s } << QByteArray() << 1 << u"no such user"_s;
    QTest::newRow("minting for a missing user refused")
        << QStringList { u"token"_s, u"mint"_s, u"--user"_s, u"ghost"_s, u"--device"_s, u"d"_s } << QByteArray() << 1
        << u"no such user"_s;
    QTest::newRow("bad listen exits 1") << QStringList { u"serve"_s, u"--listen"_s, u"nowhere"_s } << QByteArray() << 1
                                        << u"--listen"_s;
    QTest::newRow("bad secret store exits 1") << QStringList { u"keys"_s, u"list"_s, u"--secret-store"_s, u"cloud"_s }
                                              << QByteArray() << 1 << u"--secret-store"_s;
    QTest::newRow("missing config file exits 1")
        << QStringList { u"keys"_s, u"list"_s, u"--config"_s, u"/nonexistent/g.json"_s } << QByteArray() << 1
        << u"/nonexistent/g.json"_s;
    QTest::newRow("admin token without a scope exits 2")
        << QStringList { u"admin-token"_s, u"add"_s, u"room"_s } << QByteArray() << 2 << u"--scope"_s;
    QTest::newRow("admin token with an unknown scope refused")
        << QStringList { u"admin-token"_s, u"add"_s, u"room"_s, u"--scope"_s, u"root"_s } << QByteArray() << 1
        << u"viewer, operator or full"_s;
    QTest::newRow("admin token with a bad name refused")
        << QStringList { u"admin-token"_s, u"add"_s, u"room 1"_s, u"--scope"_s, u"viewer"_s } << QByteArray() << 1
        << u"1 to 64 letters"_s;
    QTest::newRow("admin token named admin refused")
        << QStringList { u"admin-token"_s, u"add"_s, u"admin"_s, u"--scope"_s, u"viewer"_s } << QByteArray() << 1
        << u"built-in"_s;
    QTest::newRow("the built-in admin token is not revoked")
        << QStringList { u"admin-token"_s, u"revoke"_s, u"admin"_s } << QByteArray() << 1 << u"rotate"_s;
    QTest::newRow("revoking a missing admin token refused")
        << QStringList { u"admin-token"_s, u"revoke"_s, u"ghost"_s } << QByteArray() << 1 << u"no admin token"_s;
    QTest::newRow("--scope elsewhere exits 2") << QStringList { u"admin-token"_s, u"list"_s, u"--scope"_s, u"full"_s }
                                               << QByteArray() << 2 << u"only goes with admin-token add"_s;
}

void TestGatehoused::badInvocationsFailClearly()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, input);
    QFETCH(int, exitCode);
    QFETCH(QString, mentions);
    const auto outcome = run(arguments, input);
    QCOMPARE(outcome.exitCode, exitCode);
    QVERIFY2(outcome.err.contains(mentions), qPrintable(outcome.err));
    QVERIFY2(!outcome.err.contains(u"runtime error"_s) && !outcome.err.contains(u"AddressSanitizer"_s),
             qPrintable(outcome.err));
    const auto listed = run({ u"user"_s, u"list"_s, u"--json"_s });
    QVERIFY(listed.exitCode != 0 || QJsonDocument::fromJson(listed.out.toUtf8()).array().isEmpty());
}

void TestGatehoused::rotationKeepsEarlierTokensValid()
{
    QCOMPARE(run({ u"user"_s, u"add"_s, u"carol"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    const auto before = run({ u"token"_s, u"mint"_s, u"--user"_s, u"carol"_s, u"--device"_s, u"d1"_s });
    QCOMPARE(before.exitCode, 0);
    const auto rotated = run({ u"keys"_s, u"rotate"_s });
    QCOMPARE(rotated.exitCode, 0);
    QVERIFY(rotated.out.contains(u"signing key is now"_s));
    const auto listed = run({ u"keys"_s, u"list"_s });
    QCOMPARE(listed.out.count(u"signing"_s), 1);
    QCOMPARE(listed.out.count(u"retired"_s), 1);
    const auto after = run({ u"token"_s, u"mint"_s, u"--user"_s, u"carol"_s, u"--device"_s, u"d1"_s });
    const auto verifier = verifierFromJwks();
    QCOMPARE(verifier->keys().size(), 2);
    QVERIFY(verifier->verify(before.out.trimmed().toLatin1(), std::chrono::system_clock::now()).ok());
    QVERIFY(verifier->verify(after.out.trimmed().toLatin1(), std::chrono::system_clock::now()).ok());
    QVERIFY(before.out.section(u'.', 0, 0) != after.out.section(u'.', 0, 0)); // a different kid in the header
}

quint16 TestGatehoused::startServer(QProcess &server) const
{
    return GatehousedProcess::startServe(server, { u"--data-dir"_s, m_dir->filePath(u"data"_s) });
}

void TestGatehoused::serveAnswersHealthAndJwksAndRefusesUpgrades()
{
    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY(port != 0);

    QNetworkAccessManager network;
    const auto get = [&](const QString &path) {
        std::unique_ptr<QNetworkReply> reply(
            network.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(path)))));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        [[maybe_unused]] const bool done = finished.wait(10000);
        return std::pair { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll() };
    };
    QCOMPARE(get(u"/healthz"_s).first, 200);
    const auto [jwksStatus, jwksBody] = get(u"/.well-known/jwks.json"_s);
    QCOMPARE(jwksStatus, 200);
    QCOMPARE(QJsonDocument::fromJson(jwksBody).object()["keys"_L1].toArray().size(), 1);
    const auto [missingStatus, missingBody] = get(u"/nothing/here"_s);
    QCOMPARE(missingStatus, 404);
    QCOMPARE(QJsonDocument::fromJson(missingBody).object()["error"_L1].toString(), u"not_found"_s);

    // A WebSocket upgrade to an HTTP route is refused outright, never answered with 101.
    QTcpSocket raw;
    raw.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(raw.waitForConnected(5000));
    raw.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    QByteArray response;
    QTRY_VERIFY_WITH_TIMEOUT((response += raw.readAll()).contains("\r\n\r\n"), 5000);
    QVERIFY2(response.startsWith("HTTP/1.1 400"), response.constData());
    QTest::qWait(200); // show that nothing else follows
    response += raw.readAll();
    QVERIFY2(!response.contains("101"), response.constData());

    // Garbage instead of HTTP does not take the server down.
    QTcpSocket garbage;
    garbage.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(garbage.waitForConnected(5000));
    garbage.write(QByteArray(4096, '\xff') + "\r\n\r\n");
    garbage.waitForBytesWritten(1000);
    QCOMPARE(get(u"/healthz"_s).first, 200);

    server.terminate(); // SIGTERM: a clean stop
    QVERIFY(server.waitForFinished(10000));
    const QByteArray serverErrors = server.readAllStandardError();
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QVERIFY2(server.exitCode() == 0, serverErrors.constData());
}

void TestGatehoused::serveAcceptsOurTokensAndATrustedIssuers()
{
    const QByteArray sharedSecret = "the legacy service's shared secret, 32+ bytes";
    QVERIFY(QDir().mkpath(m_dir->filePath(u"data"_s)));
    QFile config(m_dir->filePath(u"data/gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QJsonDocument(QJsonObject { { "trusted_issuers"_L1,
                                               QJsonArray { QJsonObject {
                                                   { "issuer"_L1, "https://legacy.example"_L1 },
                                                   { "audience"_L1, "realtime"_L1 },
                                                   { "typ"_L1, "JWT"_L1 },
                                                   { "algorithm"_L1, "HS256"_L1 },
                                                   { "shared_secret"_L1, QString::fromLatin1(sharedSecret) } } } } })
                     .toJson());
    config.close();
    QCOMPARE(run({ u"user"_s, u"add"_s, u"alice"_s, u"--role"_s, u"admin"_s, u"--password-stdin"_s }, "long enough\n")
                 .exitCode,
             0);
    const QByteArray ours
        = run({ u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"tab-1"_s }).out.trimmed().toLatin1();
    QVERIFY(!ours.isEmpty());

    // A token as `jsonwebtoken` makes them: HS256, typ JWT, no kid.
    const auto legacyKey = JsonWebKey::fromSecret(sharedSecret, JwsAlgorithm::HS256, u"legacy"_s);
    const auto legacyToken = [&](qint64 expiresIn) -> QByteArray {
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const QByteArray input = Base64Url::encode(R"({"alg":"HS256","typ":"JWT"})") + '.'
            + Base64Url::encode(QJsonDocument(QJsonObject { { "iss"_L1, "https://legacy.example"_L1 },
                                                            { "aud"_L1, "realtime"_L1 },
                                                            { "sub"_L1, "bob"_L1 },
                                                            { "iat"_L1, now },
                                                            { "exp"_L1, now + expiresIn } })
                                    .toJson(QJsonDocument::Compact));
        return input + '.' + Base64Url::encode(legacyKey->sign(input));
    };

    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY(port != 0);
    QNetworkAccessManager network;
    const auto me = [&](const QByteArray &authorization) {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/api/me"_s.arg(port)));
        if (!authorization.isNull())
            request.setRawHeader("Authorization", authorization);
        std::unique_ptr<QNetworkReply> reply(network.get(request));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        [[maybe_unused]] const bool done = finished.wait(10000);
        return std::tuple { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                            QJsonDocument::fromJson(reply->readAll()).object(), reply->rawHeader("WWW-Authenticate") };
    };

    const auto [ourStatus, ourBody, ourChallenge] = me("Bearer " + ours);
    QCOMPARE(ourStatus, 200);
    QCOMPARE(ourBody["sub"_L1].toString(), u"alice"_s);
    QCOMPARE(ourBody["device"_L1].toString(), u"tab-1"_s);
    QCOMPARE(ourBody["roles"_L1].toArray(), QJsonArray { "admin"_L1 });
    QCOMPARE(ourBody["external"_L1].toBool(), false);
    QVERIFY(ourBody["expires_in"_L1].toInt() > 800);

    const auto [theirStatus, theirBody, theirChallenge] = me("bearer " + legacyToken(60));
    QCOMPARE(theirStatus, 200);
    QCOMPARE(theirBody["sub"_L1].toString(), u"bob"_s);
    QCOMPARE(theirBody["iss"_L1].toString(), u"https://legacy.example"_s);
    QCOMPARE(theirBody["external"_L1].toBool(), true);

    const auto [noneStatus, noneBody, noneChallenge] = me(QByteArray());
    QCOMPARE(noneStatus, 401);
    QCOMPARE(noneChallenge, QByteArray(R"(Bearer realm="gatehouse")"));

    const std::pair<QByteArray, QString> refusals[] = {
        { "Bearer " + legacyToken(-120), u"token_expired"_s },
        { "Bearer not.a.token", u"bad_base64url"_s },
        { "Bearer e30.e30.AAAA", u"bad_header"_s },
        { "Bearer " + QByteArray(10000, 'a'), u"token_too_large"_s },
        { "Bearer " + ours.chopped(4) + "AAAA", u"bad_signature"_s },
    };
    for (const auto &[authorization, reason] : refusals) {
        const auto [status, body, challenge] = me(authorization);
        QCOMPARE(status, 401);
        QCOMPARE(body["error_description"_L1].toString(), reason);
        QVERIFY2(challenge.contains("error=\"invalid_token\""), challenge.constData());
    }
    const auto [basicStatus, basicBody, basicChallenge] = me("Basic YWxpY2U6cGFzc3dvcmQ=");
    QCOMPARE(basicStatus, 401);
    QCOMPARE(basicBody["error"_L1].toString(), u"invalid_request"_s);

    // A session opened by another process on the same data directory while the server runs
    // (the CLI's `token mint`) is honoured over HTTP and at the WebSocket handshake: the
    // server reads sessions it has not heard of from the store.
    const QList<QByteArray> minted
        = run({ u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"tab"_s, u"--count"_s, u"2"_s })
              .out.trimmed()
              .toLatin1()
              .split('\n');
    QCOMPARE(minted.size(), 2);
    QVERIFY(minted[0] != minted[1]);
    const QByteArray later = minted[1];
    QCOMPARE(std::get<0>(me("Bearer " + minted[0])), 200);
    QCOMPARE(std::get<0>(me("Bearer " + later)), 200);
    QWebSocket socket;
    QSignalSpy welcomed(&socket, &QWebSocket::textMessageReceived);
    socket.open(QUrl(u"ws://127.0.0.1:%1/ws?access_token=%2"_s.arg(port).arg(QString::fromLatin1(later))));
    QTRY_COMPARE_WITH_TIMEOUT(welcomed.count(), 1, 10000);
    QVERIFY(welcomed.first().first().toString().contains(u"\"welcome\""_s));
    socket.close();

    // "Revoke everything issued before now" reaches an external issuer's user too, named with
    // its issuer: the live connection closes with 4003 and the same token is refused at the
    // next handshake.
    const QByteArray bobsToken = legacyToken(600);
    const auto openAs = [&](QWebSocket &client, const QByteArray &token) {
        client.open(QUrl(u"ws://127.0.0.1:%1/ws?access_token=%2"_s.arg(port).arg(QString::fromLatin1(token))));
    };
    QWebSocket bob;
    QSignalSpy bobWelcomed(&bob, &QWebSocket::textMessageReceived);
    openAs(bob, bobsToken);
    QTRY_COMPARE_WITH_TIMEOUT(bobWelcomed.count(), 1, 10000);
    const QByteArray adminToken = run({ u"admin-token"_s, u"show"_s }).out.trimmed().toLatin1();
    QNetworkRequest revoke(
        QUrl(u"http://127.0.0.1:%1/admin/users/bob/revoke-before?issuer=https%3A%2F%2Flegacy.example"_s.arg(port)));
    revoke.setRawHeader("Authorization", "Bearer " + adminToken);
    std::unique_ptr<QNetworkReply> revoked(network.post(revoke, QByteArray()));
    QTRY_VERIFY_WITH_TIMEOUT(revoked->isFinished(), 10000);
    QCOMPARE(revoked->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(bob.state(), QAbstractSocket::UnconnectedState, 5000);
    QCOMPARE(int(bob.closeCode()), 4003);
    QCOMPARE(std::get<0>(me("Bearer " + bobsToken)), 401);

    // A client still sending its request head when the server stops does not upset the stop.
    QTcpSocket halfway;
    halfway.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(halfway.waitForConnected(5000));
    halfway.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    QVERIFY(halfway.waitForBytesWritten(5000));
    QTest::qWait(100);
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 0);
}

void TestGatehoused::auditVerifyAndExport()
{
    QCOMPARE(run({ u"user"_s, u"add"_s, u"dave"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    // A device name a spreadsheet would run as a formula, to check the CSV export defuses it.
    QCOMPARE(run({ u"token"_s, u"mint"_s, u"--user"_s, u"dave"_s, u"--device"_s, u"=HYPERLINK(\"x\")"_s }).exitCode, 0);
    QCOMPARE(run({ u"token"_s, u"mint"_s, u"--user"_s, u"dave"_s, u"--device"_s, u"phone"_s }).exitCode, 0);

    const auto verified = run({ u"audit"_s, u"verify"_s });
    QCOMPARE(verified.exitCode, 0);
    QVERIFY2(verified.out.contains(u"intact: 3 events"_s), qPrintable(verified.out));

    const auto jsonl = run({ u"audit"_s, u"export"_s });
    QCOMPARE(jsonl.exitCode, 0);
    const auto lines = jsonl.out.trimmed().split(u'\n');
    QCOMPARE(lines.size(), 3);
    // The command line is named by the unix user who ran it.
    const auto added = QJsonDocument::fromJson(lines[0].toUtf8()).object();
    QCOMPARE(added["id"_L1].toInt(), 1);
    QCOMPARE(added["type"_L1].toString(), u"user_added"_s);
    QVERIFY2(QRegularExpression(u"^cli:[^:]+$"_s).match(added["actor"_L1].toString()).hasMatch(),
             qPrintable(added["actor"_L1].toString()));
    const auto first = QJsonDocument::fromJson(lines[1].toUtf8()).object();
    QCOMPARE(first["type"_L1].toString(), u"session_opened_by_admin"_s);
    QCOMPARE(first["actor"_L1].toString(), added["actor"_L1].toString());
    QCOMPARE(first["hash"_L1].toString().size(), 64);

    const auto csv = run({ u"audit"_s, u"export"_s, u"--format"_s, u"csv"_s });
    QCOMPARE(csv.exitCode, 0);
    QVERIFY(csv.out.startsWith(u"id,time,type,actor"_s));
    QVERIFY2(csv.out.contains(u"\"'=HYPERLINK(\"\"x\"\")\""_s), qPrintable(csv.out));
    QCOMPARE(run({ u"audit"_s, u"export"_s, u"--format"_s, u"xml"_s }).exitCode, 2);

    // Tampering with the file directly (guards dropped first) is found and reported.
    {
        Database database;
        QVERIFY(database.open(m_dir->filePath(u"data/gatehouse.sqlite"_s)));
        QSqlQuery query(database.connection());
        QVERIFY(query.exec(u"DROP TRIGGER audit_events_no_update"_s));
        QVERIFY(query.exec(u"UPDATE audit_events SET actor = 'someone-else' WHERE id = 1"_s));
    }
    const auto broken = run({ u"audit"_s, u"verify"_s });
    QCOMPARE(broken.exitCode, 1);
    QVERIFY2(broken.err.contains(u"BROKEN at event 1"_s), qPrintable(broken.err));
}

void TestGatehoused::acknowledgedStateSurvivesKillDashNine()
{
    QCOMPARE(run({ u"user"_s, u"add"_s, u"erin"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    QProcess server;
    quint16 port = startServer(server);
    QVERIFY(port != 0);
    QNetworkAccessManager network;
    const auto post = [&](const QString &path, const QByteArray &body, const QByteArray &type) {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, type);
        std::unique_ptr<QNetworkReply> reply(network.post(request, body));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        [[maybe_unused]] const bool done = finished.wait(20000);
        return QJsonDocument::fromJson(reply->readAll()).object();
    };
    const auto login = [&](const QByteArray &device) {
        return post(u"/auth/login"_s, R"({"username":"erin","password":"long enough","device":")" + device + "\"}",
                    "application/json");
    };
    const QByteArray form = "application/x-www-form-urlencoded";
    const auto kept = login("kept");
    const auto revoked = login("revoked");
    const QByteArray keptRefresh = kept["refresh_token"_L1].toString().toLatin1();
    const auto rotated = post(u"/oauth/token"_s, "grant_type=refresh_token&refresh_token=" + keptRefresh, form);
    QVERIFY(rotated.contains("refresh_token"_L1));
    post(u"/oauth/revoke"_s, "token=" + revoked["refresh_token"_L1].toString().toLatin1(), form);

    server.kill(); // SIGKILL: no clean shutdown, nothing flushed on the way out
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitStatus(), QProcess::CrashExit);

    QProcess restarted;
    port = startServer(restarted);
    QVERIFY(port != 0);
    // Everything acknowledged before the kill is there: the rotation, so the old token is now
    // reuse; the revocation; and the new refresh token still works.
    QCOMPARE(post(u"/oauth/token"_s,
                  "grant_type=refresh_token&refresh_token=" + revoked["refresh_token"_L1].toString().toLatin1(),
                  form)["error_description"_L1]
                 .toString(),
             u"session_revoked"_s);
    QVERIFY(post(u"/oauth/token"_s,
                 "grant_type=refresh_token&refresh_token=" + rotated["refresh_token"_L1].toString().toLatin1(), form)
                .contains("access_token"_L1));
    QCOMPARE(
        post(u"/oauth/token"_s, "grant_type=refresh_token&refresh_token=" + keptRefresh, form)["error_description"_L1]
            .toString(),
        u"refresh_token_reused"_s);
    restarted.terminate();
    QVERIFY(restarted.waitForFinished(10000));
    const auto verified = run({ u"audit"_s, u"verify"_s });
    QCOMPARE(verified.exitCode, 0);
}

void TestGatehoused::serveReportsATakenPort()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const auto outcome = run({ u"serve"_s, u"--listen"_s, u"127.0.0.1:%1"_s.arg(squatter.serverPort()) });
    QCOMPARE(outcome.exitCode, 1);
    QVERIFY2(outcome.err.contains(u"in use"_s), qPrintable(outcome.err));
}

void TestGatehoused::serveRefusesBadTlsFilesInOneSentence()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const TlsCertificate good = TlsCertificate::selfSigned(u"ours"_s, { u"localhost"_s }, {}, 30, now.addSecs(-60));
    const TlsCertificate other = TlsCertificate::selfSigned(u"theirs"_s, { u"localhost"_s }, {}, 30, now.addSecs(-60));
    const TlsCertificate expired = TlsCertificate::selfSigned(u"old"_s, { u"localhost"_s }, {}, 1, now.addDays(-3));
    const auto write = [&](const QString &name, const QByteArray &bytes) {
        QFile file(m_dir->filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(bytes);
    };
    write(u"cert.pem"_s, good.chainPem());
    write(u"other-key.pem"_s, other.keyPem());
    write(u"expired.pem"_s, expired.chainPem());
    write(u"expired-key.pem"_s, expired.keyPem());
    write(u"garbage.pem"_s, "not a certificate");
    const auto serve = [&](const QString &certificate, const QString &key) {
        return run({ u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--tls-cert"_s, m_dir->filePath(certificate),
                     u"--tls-key"_s, m_dir->filePath(key) });
    };
    const QList<std::tuple<QString, QString, QString>> cases {
        { u"cert.pem"_s, u"missing-key.pem"_s, u"does not exist"_s },
        { u"cert.pem"_s, u"other-key.pem"_s, u"does not match the certificate"_s },
        { u"expired.pem"_s, u"expired-key.pem"_s, u"expired on"_s },
        { u"garbage.pem"_s, u"other-key.pem"_s, u"not a PEM certificate"_s },
    };
    for (const auto &[certificate, key, sentence] : cases) {
        const auto outcome = serve(certificate, key);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(sentence), qPrintable(outcome.err));
        QVERIFY2(outcome.err.contains(u"TLS"_s), qPrintable(outcome.err));
    }
    const auto half = run({ u"serve"_s, u"--tls-cert"_s, m_dir->filePath(u"cert.pem"_s) });
    QVERIFY(half.exitCode != 0);
    QVERIFY2(half.err.contains(u"--tls-key"_s), qPrintable(half.err));
    const auto notServe = run({ u"user"_s, u"list"_s, u"--tls"_s, u"self-signed"_s });
    QCOMPARE(notServe.exitCode, 2);
    QVERIFY2(notServe.err.contains(u"only go with serve"_s), qPrintable(notServe.err));
}

void TestGatehoused::sighupReloadsTheCertificateAndTlsShowPrintsIt()
{
    const QDateTime now = QDateTime::currentDateTimeUtc().addSecs(-60);
    const TlsCertificate first = TlsCertificate::selfSigned(u"first"_s, { u"localhost"_s }, {}, 30, now);
    const TlsCertificate second = TlsCertificate::selfSigned(u"second"_s, { u"localhost"_s }, {}, 30, now);
    QDir().mkpath(m_dir->filePath(u"data"_s));
    const auto write = [&](const QString &name, const QByteArray &bytes) {
        QFile file(m_dir->filePath(u"data/"_s + name));
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(bytes);
    };
    write(u"gatehouse.json"_s, R"({"tls": {"certificate": "cert.pem", "private_key": "key.pem"}})");
    write(u"cert.pem"_s, first.chainPem());
    write(u"key.pem"_s, first.keyPem());
    const auto shown = run({ u"tls"_s, u"show"_s, u"--data-dir"_s, m_dir->filePath(u"data"_s) });
    QCOMPARE(shown.exitCode, 0);
    QVERIFY2(shown.out.contains(u"subject      CN=first"_s), qPrintable(shown.out));
    QVERIFY2(shown.out.contains(first.summary().sha256Fingerprint), qPrintable(shown.out));
    QVERIFY2(shown.out.contains(u"names        localhost"_s), qPrintable(shown.out));

    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY(port != 0);
    write(u"cert.pem"_s, second.chainPem());
    write(u"key.pem"_s, second.keyPem());
    ::kill(pid_t(server.processId()), SIGHUP);
    QString output;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     // On standard output, from the SIGHUP handler (the log on standard error
                     // also tells of the files' watcher reloading).
                     output += QString::fromUtf8(server.readAllStandardOutput());
                     return output.contains(u"gatehoused: TLS certificate reloaded"_s);
                 },
                 10000),
             qPrintable(output));
    QSslSocket probe;
    QSslConfiguration trusting = QSslConfiguration::defaultConfiguration();
    trusting.setCaCertificates(QSslCertificate::fromData(second.chainPem()));
    probe.setSslConfiguration(trusting);
    probe.connectToHostEncrypted(u"localhost"_s, port);
    QVERIFY(probe.waitForEncrypted(5000));
    QCOMPARE(probe.peerCertificate().subjectInfo(QSslCertificate::CommonName), QStringList { u"second"_s });
    QVERIFY(server.state() == QProcess::Running); // SIGHUP reloads; it does not stop the server
    server.terminate();
    QVERIFY(server.waitForFinished(20000));
}

void TestGatehoused::oidcClientsAreRegisteredListedAndRemoved()
{
    const auto added = run({ u"client"_s, u"add"_s, u"--id"_s, u"notes-app"_s, u"--redirect-uri"_s,
                             u"https://notes.example/callback"_s, u"--redirect-uri"_s, u"http://127.0.0.1:5173/cb"_s,
                             u"--backchannel-logout-uri"_s, u"https://notes.example/bc-logout"_s });
    QCOMPARE(added.exitCode, 0);
    QVERIFY2(added.out.contains(u"added client notes-app"_s), qPrintable(added.err));
    const auto listed = run({ u"client"_s, u"list"_s, u"--json"_s });
    QCOMPARE(listed.exitCode, 0);
    const auto clients = QJsonDocument::fromJson(listed.out.toUtf8()).array();
    QCOMPARE(clients.size(), 1);
    QCOMPARE(clients[0]["id"_L1].toString(), u"notes-app"_s);
    QCOMPARE(clients[0]["redirect_uris"_L1].toArray().size(), 2);
    QCOMPARE(clients[0]["backchannel_logout_uri"_L1].toString(), u"https://notes.example/bc-logout"_s);

    // Hostile registrations: each refused with a sentence and exit code 1, nothing stored.
    const QList<std::pair<QStringList, QString>> hostile {
        { { u"--id"_s, u"notes-app"_s, u"--redirect-uri"_s, u"https://x.example/cb"_s }, u"already exists"_s },
        { { u"--id"_s, u"bad id!"_s, u"--redirect-uri"_s, u"https://x.example/cb"_s }, u"client id"_s },
        { { u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"http://evil.example/cb"_s }, u"https only"_s },
        { { u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"https://x.example/cb#frag"_s }, u"fragment"_s },
        { { u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"https://user:pw@x.example/cb"_s }, u"user info"_s },
        { { u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"/relative/cb"_s }, u"absolute"_s },
        { { u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"https://x.example/cb"_s, u"--frontchannel-logout-uri"_s,
            u"javascript:alert(1)"_s },
          u"logout URI"_s },
    };
    for (const auto &[arguments, says] : hostile) {
        const auto refused = run(QStringList { u"client"_s, u"add"_s } + arguments);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains(says), qPrintable(refused.err));
    }
    QCOMPARE(QJsonDocument::fromJson(run({ u"client"_s, u"list"_s, u"--json"_s }).out.toUtf8()).array().size(), 1);

    QCOMPARE(run({ u"client"_s, u"remove"_s, u"--id"_s, u"notes-app"_s }).exitCode, 0);
    const auto again = run({ u"client"_s, u"remove"_s, u"--id"_s, u"notes-app"_s });
    QCOMPARE(again.exitCode, 1);
    QVERIFY(again.err.contains(u"no client notes-app"_s));
    QVERIFY(run({ u"client"_s, u"list"_s }).out.contains(u"no clients"_s));
}

void TestGatehoused::namedAdminTokensWorkOnARunningServer()
{
    // With gatehoused serve running: a token added by the CLI is recognised within a second,
    // with its scope; revoked, it is refused within a second; a rotated built-in token too.
    QProcess server;
    const quint16 port = startServer(server);
    QNetworkAccessManager network;
    const auto ask = [&](QByteArrayView method, const QString &path, const QByteArray &token) {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(path)));
        request.setRawHeader("Authorization", "Bearer " + token);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        std::unique_ptr<QNetworkReply> reply(
            network.sendCustomRequest(request, method.toByteArray(), QByteArray("{}")));
        if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 10000))
            return 0;
        return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    };
    const auto added = run({ u"admin-token"_s, u"add"_s, u"room"_s, u"--scope"_s, u"viewer"_s });
    QCOMPARE(added.exitCode, 0);
    const QByteArray viewer = added.out.trimmed().toLatin1();
    QVERIFY(viewer.startsWith("gha_"));
    QVERIFY2(added.err.contains(u"shown this once"_s), qPrintable(added.err));
    QCOMPARE(run({ u"admin-token"_s, u"add"_s, u"room"_s, u"--scope"_s, u"full"_s }).exitCode, 1);

    const auto listed = run({ u"admin-token"_s, u"list"_s, u"--json"_s });
    QCOMPARE(listed.exitCode, 0);
    QVERIFY(!listed.out.contains(QString::fromLatin1(viewer))); // only hashes are kept
    const auto tokens = QJsonDocument::fromJson(listed.out.toUtf8()).array();
    QCOMPARE(tokens.size(), 2);
    QCOMPARE(tokens[0]["name"_L1].toString(), u"admin"_s);
    QCOMPARE(tokens[0]["scope"_L1].toString(), u"full"_s);
    QCOMPARE(tokens[1]["name"_L1].toString(), u"room"_s);
    QCOMPARE(tokens[1]["scope"_L1].toString(), u"viewer"_s);

    QVERIFY(QTest::qWaitFor([&] { return ask("GET", u"/admin/users"_s, viewer) == 200; }, 3000));
    QCOMPARE(ask("PUT", u"/admin/policy"_s, viewer), 403);
    QCOMPARE(ask("POST", u"/admin/users/nobody/disconnect"_s, viewer), 403);

    QCOMPARE(run({ u"admin-token"_s, u"revoke"_s, u"room"_s }).exitCode, 0);
    QVERIFY(QTest::qWaitFor([&] { return ask("GET", u"/admin/users"_s, viewer) == 401; }, 3000));

    const QByteArray before = run({ u"admin-token"_s, u"show"_s }).out.trimmed().toLatin1();
    QCOMPARE(ask("GET", u"/admin/users"_s, before), 200);
    const QByteArray rotated = run({ u"admin-token"_s, u"rotate"_s }).out.trimmed().toLatin1();
    QVERIFY(rotated.startsWith("gha_") && rotated != before);
    QVERIFY(QTest::qWaitFor([&] { return ask("GET", u"/admin/users"_s, rotated) == 200; }, 3000));
    QCOMPARE(ask("GET", u"/admin/users"_s, before), 401);
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 0);
}

void TestGatehoused::theCommandLineActsOnARunningServer()
{
    // With gatehoused serve running, the command line's changes take effect at once, as the
    // console's do: a disabled user's socket closes with 4003 and her token is refused, a new
    // password does the same, new roles reconnect, a rotated key signs and is published; each
    // audited with the command line's actor.
    QCOMPARE(run({ u"user"_s, u"add"_s, u"alice"_s, u"--password-stdin"_s }, "a long password\n").exitCode, 0);
    QProcess server;
    const quint16 port = startServer(server);
    const QString base = u"http://127.0.0.1:%1"_s.arg(port);
    QNetworkAccessManager network;
    const auto post = [&](const QString &path, const QJsonObject &body) {
        QNetworkRequest request(QUrl(base + path));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        std::unique_ptr<QNetworkReply> reply(network.post(request, QJsonDocument(body).toJson()));
        [[maybe_unused]] const bool done = QTest::qWaitFor([&] { return reply->isFinished(); }, 20000);
        return QJsonDocument::fromJson(reply->readAll()).object();
    };
    const auto login = [&](const QString &password) {
        return post(u"/auth/login"_s,
                    { { "username"_L1, "alice"_L1 }, { "password"_L1, password }, { "device"_L1, "laptop"_L1 } })
            .value("access_token"_L1)
            .toString();
    };
    const auto me = [&](const QString &token) {
        QNetworkRequest request(QUrl(base + u"/api/me"_s));
        request.setRawHeader("Authorization", "Bearer " + token.toLatin1());
        std::unique_ptr<QNetworkReply> reply(network.get(request));
        [[maybe_unused]] const bool done = QTest::qWaitFor([&] { return reply->isFinished(); }, 10000);
        return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    };
    const auto connect = [&](const QString &token) {
        auto socket = std::make_unique<QWebSocket>();
        QSignalSpy welcomed(socket.get(), &QWebSocket::textMessageReceived);
        socket->open(QUrl(u"ws://127.0.0.1:%1/ws?access_token=%2"_s.arg(port).arg(token)));
        [[maybe_unused]] const bool open = welcomed.wait(10000);
        return socket;
    };
    const auto closedWith = [](QWebSocket &socket, int code) {
        return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; }, 4000)
            && int(socket.closeCode()) == code;
    };

    // Disabled from the command line.
    QString token = login(u"a long password"_s);
    QVERIFY(!token.isEmpty());
    auto socket = connect(token);
    QCOMPARE(socket->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(me(token), 200);
    QCOMPARE(run({ u"user"_s, u"disable"_s, u"alice"_s }).exitCode, 0);
    QVERIFY2(closedWith(*socket, 4003), qPrintable(u"closed with %1"_s.arg(int(socket->closeCode()))));
    QCOMPARE(me(token), 401);

    // Enabled again; then a new password from the command line.
    QCOMPARE(run({ u"user"_s, u"enable"_s, u"alice"_s }).exitCode, 0);
    token = login(u"a long password"_s);
    QVERIFY(!token.isEmpty());
    socket = connect(token);
    QCOMPARE(socket->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(run({ u"user"_s, u"passwd"_s, u"alice"_s, u"--password-stdin"_s }, "another long password\n").exitCode, 0);
    QVERIFY2(closedWith(*socket, 4003), qPrintable(u"closed with %1"_s.arg(int(socket->closeCode()))));
    QCOMPARE(me(token), 401);

    // New roles: her socket is closed to reconnect with them (4000), her session lives.
    QTest::qWait(1100); // a session opened in the second of the password change would be cut off with it
    token = login(u"another long password"_s);
    QVERIFY(!token.isEmpty());
    socket = connect(token);
    QCOMPARE(run({ u"user"_s, u"roles"_s, u"alice"_s, u"--role"_s, u"editor"_s }).exitCode, 0);
    QVERIFY2(closedWith(*socket, 4000), qPrintable(u"closed with %1"_s.arg(int(socket->closeCode()))));
    QCOMPARE(me(token), 200);

    // A key rotated from the command line: published, and signing the next login's token.
    const auto rotated = run({ u"keys"_s, u"rotate"_s });
    QCOMPARE(rotated.exitCode, 0);
    const QString kid = rotated.out.section(u' ', -1).trimmed();
    QVERIFY(!kid.isEmpty());
    const auto jwks = [&] {
        std::unique_ptr<QNetworkReply> reply(network.get(QNetworkRequest(QUrl(base + u"/.well-known/jwks.json"_s))));
        [[maybe_unused]] const bool done = QTest::qWaitFor([&] { return reply->isFinished(); }, 10000);
        return QString::fromUtf8(reply->readAll());
    };
    QVERIFY(QTest::qWaitFor([&] { return jwks().contains(kid); }, 4000));
    const QString signedNow = login(u"another long password"_s);
    const QJsonObject header
        = QJsonDocument::fromJson(Base64Url::decode(signedNow.section(u'.', 0, 0).toLatin1()).value_or(QByteArray()))
              .object();
    QCOMPARE(header["kid"_L1].toString(), kid);
    QCOMPARE(me(token), 200); // tokens of the retired key verify on

    // Each change is in the audit log with the command line as actor.
    const auto audit = run({ u"audit"_s, u"export"_s });
    for (const auto type :
         { "user_disabled", "user_enabled", "user_password_reset", "user_roles_changed", "signing_key_rotated" }) {
        bool found = false;
        for (const auto &line : audit.out.split(u'\n', Qt::SkipEmptyParts)) {
            const QJsonObject event = QJsonDocument::fromJson(line.toUtf8()).object();
            found = found
                || (event["type"_L1] == QLatin1StringView(type) && event["actor"_L1].toString().startsWith(u"cli:"_s));
        }
        QVERIFY2(found, type);
    }
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void TestGatehoused::checkConfigSaysWhatServeWouldRefuse()
{
    const auto write = [&](const QString &name, const QByteArray &content) {
        QFile file(m_dir->filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
    };
    const QString elsewhere = m_dir->filePath(u"never-made"_s);
    write(u"good.json"_s, R"({"listen": "127.0.0.1:9443", "inspect_payloads": false})");
    const auto good
        = run({ u"check-config"_s, u"--config"_s, m_dir->filePath(u"good.json"_s), u"--data-dir"_s, elsewhere });
    QCOMPARE(good.exitCode, 0);
    QVERIFY2(good.out.contains(u"configuration valid"_s) && good.out.contains(u"127.0.0.1:9443"_s),
             qPrintable(good.out));
    QVERIFY2(!QFileInfo::exists(elsewhere), "checking makes nothing on disk");

    write(u"unknown.json"_s, R"({"listen": "127.0.0.1:9443", "lisen": 1})");
    const auto unknown = run({ u"check-config"_s, u"--config"_s, m_dir->filePath(u"unknown.json"_s) });
    QCOMPARE(unknown.exitCode, 1);
    QVERIFY2(unknown.err.contains(u"lisen"_s), qPrintable(unknown.err));
    write(u"broken.json"_s, R"({"listen": )");
    QCOMPARE(run({ u"check-config"_s, u"--config"_s, m_dir->filePath(u"broken.json"_s) }).exitCode, 1);
    QCOMPARE(run({ u"check-config"_s, u"--config"_s, m_dir->filePath(u"missing.json"_s) }).exitCode, 1);
    write(u"tls.json"_s, R"({"tls": {"certificate": "no-cert.pem", "private_key": "no-key.pem"}})");
    const auto tls = run({ u"check-config"_s, u"--config"_s, m_dir->filePath(u"tls.json"_s) });
    QCOMPARE(tls.exitCode, 1);
    QVERIFY2(tls.err.contains(u"TLS"_s), qPrintable(tls.err));
}

void TestGatehoused::statusAsksTheRunningServer()
{
    const auto none = run({ u"status"_s });
    QCOMPARE(none.exitCode, 1);
    QVERIFY2(none.err.contains(u"no server is running"_s), qPrintable(none.err));
    for (const bool tls : { false, true }) {
        if (tls) { // the lab's certificate, which names no loopback address it is asked on
            QFile config(m_dir->filePath(u"data/gatehouse.json"_s));
            QVERIFY(config.open(QIODevice::WriteOnly));
            config.write(R"({"tls": "self-signed"})");
        }
        QProcess server;
        const quint16 port = startServer(server);
        QVERIFY(port != 0);
        const auto status = run({ u"status"_s });
        QCOMPARE(status.exitCode, 0);
        QVERIFY2(status.out.contains(u"listening    127.0.0.1:%1"_s.arg(port)), qPrintable(status.out));
        QVERIFY2(status.out.contains(u"pid %1,"_s.arg(server.processId())), qPrintable(status.out));
        QVERIFY2(status.out.contains(tls ? u"TLS, SHA-256"_s : u"plain HTTP"_s), qPrintable(status.out));
        QVERIFY(status.out.contains(u"connections  0"_s));
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        // Stopped, it leaves no record behind.
        QVERIFY(run({ u"status"_s }).err.contains(u"no server is running"_s));
    }
    // Killed, its record stays, and names a pid that is gone.
    QFile::remove(m_dir->filePath(u"data/gatehouse.json"_s));
    QProcess killed;
    QVERIFY(startServer(killed) != 0);
    killed.kill();
    QVERIFY(killed.waitForFinished(10000));
    const auto stale = run({ u"status"_s });
    QCOMPARE(stale.exitCode, 1);
    QVERIFY2(stale.err.contains(u"which is gone"_s), qPrintable(stale.err));
}

void TestGatehoused::rootDoesNotWriteIntoAnotherUsersData()
{
    if (::geteuid() != 0)
        QSKIP("needs root, as CI runs");
    // As a packaged server's /var/lib/gatehouse belongs to the gatehouse user.
    const QString data = m_dir->filePath(u"theirs"_s);
    QVERIFY(QDir().mkpath(data));
    QVERIFY(::chown(QFile::encodeName(data).constData(), 65534, 65534) == 0);
    QProcess process;
    process.setProcessEnvironment(environment());
    process.start(QStringLiteral(GATEHOUSED_PATH), { u"keys"_s, u"rotate"_s, u"--data-dir"_s, data });
    QVERIFY(process.waitForFinished(30000));
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(QString::fromUtf8(process.readAllStandardError()).contains(u"run this as that user"_s), "said why");
    QVERIFY2(QDir(data).isEmpty(), "nothing written");
}

void TestGatehoused::anUpgradeFromTheOldestSchemaKeepsTheData()
{
    // A user as the first release stored her: the row of a current store (a real Argon2 hash)
    // written into a store at schema 1, made by the first migration alone.
    QCOMPARE(
        run({ u"user"_s, u"add"_s, u"alice"_s, u"--role"_s, u"editor"_s, u"--password-stdin"_s }, "a long password\n")
            .exitCode,
        0);
    QVariantList row;
    {
        Database current;
        QVERIFY(current.open(m_dir->filePath(u"data/gatehouse.sqlite"_s)));
        QSqlQuery query(current.connection());
        QVERIFY(query.exec(u"SELECT username, display_name, roles, enabled, password_hash, password_changed_at, "
                           "created_at, updated_at FROM users WHERE username = 'alice'"_s));
        QVERIFY(query.next());
        for (int column = 0; column < 8; ++column)
            row.append(query.value(column));
    }
    const QString old = m_dir->filePath(u"old"_s);
    QVERIFY(QDir().mkpath(old));
    {
        auto db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"schema-1"_s);
        db.setDatabaseName(old + u"/gatehouse.sqlite"_s);
        QVERIFY(db.open());
        for (const auto &statement : Migrations::steps().front()) {
            QSqlQuery query(db);
            QVERIFY2(query.exec(statement), qPrintable(query.lastError().text()));
        }
        QSqlQuery insert(db);
        insert.prepare(u"INSERT INTO users (username, display_name, roles, enabled, password_hash, "
                       "password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
        for (const auto &value : std::as_const(row))
            insert.addBindValue(value);
        QVERIFY2(insert.exec(), qPrintable(insert.lastError().text()));
        QVERIFY(QSqlQuery(db).exec(u"PRAGMA user_version=1"_s));
        db.close();
    }
    QSqlDatabase::removeDatabase(u"schema-1"_s);

    // The new release starts on it: every migration runs, and alice logs in as before.
    QProcess server;
    server.setProcessEnvironment(environment());
    server.start(QStringLiteral(GATEHOUSED_PATH),
                 { u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--data-dir"_s, old, u"--secret-store"_s, u"file"_s });
    QString banner;
    QVERIFY(QTest::qWaitFor(
        [&] { return (banner += QString::fromUtf8(server.readAllStandardOutput())).contains(u"listening on"_s); },
        20000));
    const quint16 port
        = QRegularExpression(u"listening on 127\\.0\\.0\\.1:(\\d+)"_s).match(banner).captured(1).toUShort();
    QNetworkAccessManager network;
    QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/auth/login"_s.arg(port)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        network.post(request,
                     QJsonDocument(QJsonObject { { "username"_L1, "alice"_L1 },
                                                 { "password"_L1, "a long password"_L1 },
                                                 { "device"_L1, "laptop"_L1 } })
                         .toJson()));
    QVERIFY(QTest::qWaitFor([&] { return reply->isFinished(); }, 20000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
    {
        Database migrated;
        QVERIFY(migrated.open(old + u"/gatehouse.sqlite"_s));
        QCOMPARE(migrated.schemaVersion(), int(Migrations::steps().size()));
    }
    QProcess audit;
    audit.setProcessEnvironment(environment());
    audit.start(QStringLiteral(GATEHOUSED_PATH), { u"audit"_s, u"verify"_s, u"--data-dir"_s, old });
    QVERIFY(audit.waitForFinished(30000));
    QCOMPARE(audit.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestGatehoused)
#include "tst_gatehoused.moc"
