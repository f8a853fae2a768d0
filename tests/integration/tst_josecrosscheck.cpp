// Cross-check with an independent JOSE implementation (npm `jose`, pinned in
// tests/crosscheck/package-lock.json): our tokens must verify in jose against our JWKS, its
// tokens must verify in ours, and the forgeries must fail on both sides. All four algorithms.
#include "auth/Base64Url.h"
#include "auth/CompactJws.h"
#include "auth/JsonWebKeySet.h"
#include "auth/KeySet.h"
#include "auth/TokenIssuer.h"
#include "auth/TokenVerifier.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
const auto issuer = u"https://gatehouse.test"_s;
const auto audience = u"gatehouse"_s;

QString crosscheckDir()
{
    return QStringLiteral(GATEHOUSE_CROSSCHECK_DIR);
}

struct OurToken {
    QString name;
    QString algorithm; ///< what the verifier pins for this token's key
    QByteArray token;
    bool valid;
};
} // namespace

class TestJoseCrosscheck final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void oursVerifyInJose();
    void joseTokensVerifyInOurs();

private:
    QList<OurToken> m_ours;
    QJsonObject m_answer;
};

void TestJoseCrosscheck::initTestCase()
{
    const QString node = QStandardPaths::findExecutable(u"node"_s);
    QVERIFY2(!node.isEmpty(), "node is not installed (scripts/install-deps.sh installs it)");
    QVERIFY2(QDir(crosscheckDir() + u"/node_modules/jose"_s).exists(),
             "tests/crosscheck has no node_modules: run `npm ci` there (scripts/test.sh does)");

    const auto now = std::chrono::system_clock::now();
    QJsonArray publicKeys;
    std::optional<JsonWebKey> edKey;
    for (const auto algorithm :
         { JwsAlgorithm::EdDSA, JwsAlgorithm::ES256, JwsAlgorithm::RS256, JwsAlgorithm::HS256 }) {
        const auto key = *JsonWebKey::generate(algorithm);
        if (!key.isSymmetric())
            publicKeys.append(key.publicJwk());
        if (algorithm == JwsAlgorithm::EdDSA)
            edKey = key;
        const TokenIssuer tokenIssuer(key, issuer, audience);
        const QString name = u"gatehouse "_s + Jwa::name(algorithm) + u" token"_s;
        m_ours.append({ name, Jwa::name(algorithm),
                        tokenIssuer.mint({ u"alice"_s, u"s1"_s, u"laptop"_s, { u"admin"_s }, 300s, {} }, now).token,
                        true });
        if (algorithm == JwsAlgorithm::HS256) {
            m_answer.insert(
                "hs256"_L1,
                QJsonObject { { "kid"_L1, key.keyId() }, { "k"_L1, QString::fromLatin1(key.privateKeyMaterial()) } });
        }
    }
    const TokenIssuer edIssuer(*edKey, issuer, audience);
    m_ours.append({ u"gatehouse expired token"_s, u"EdDSA"_s,
                    edIssuer.mint({ u"alice"_s, u"s1"_s, {}, {}, 60s, {} }, now - 2h).token, false });
    m_ours.append(
        { u"gatehouse token for another audience"_s, u"EdDSA"_s,
          TokenIssuer(*edKey, issuer, u"elsewhere"_s).mint({ u"alice"_s, u"s1"_s, {}, {}, 60s, {} }, now).token,
          false });
    const QByteArray valid = edIssuer.mint({ u"alice"_s, u"s1"_s, {}, {}, 60s, {} }, now).token;
    const auto parts = valid.split('.');
    const QByteArray forged = Base64Url::encode(
        QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding).replace("\"alice\"", "\"admin\""));
    m_ours.append(
        { u"gatehouse token with a tampered payload"_s, u"EdDSA"_s, parts[0] + '.' + forged + '.' + parts[2], false });
    m_ours.append({ u"unsigned token (alg none)"_s, u"EdDSA"_s,
                    Base64Url::encode(R"({"alg":"none","typ":"at+jwt"})") + '.' + parts[1] + '.', false });
    const auto confusion
        = JsonWebKey::fromSecret(QJsonDocument(edKey->publicJwk()).toJson(), JwsAlgorithm::HS256, edKey->keyId());
    m_ours.append({ u"HS256 keyed with our public key"_s, u"EdDSA"_s,
                    CompactJws::sign({ { "typ"_L1, "at+jwt"_L1 } },
                                     QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding), *confusion),
                    false });

    QJsonArray tokens;
    for (const auto &ours : m_ours)
        tokens.append(QJsonObject {
            { "name"_L1, ours.name }, { "alg"_L1, ours.algorithm }, { "token"_L1, QString::fromLatin1(ours.token) } });
    const QJsonObject request {
        { "ours"_L1,
          QJsonObject { { "jwks"_L1, QJsonObject { { "keys"_L1, publicKeys } } },
                        { "hs256"_L1, m_answer.value("hs256"_L1) },
                        { "issuer"_L1, issuer },
                        { "audience"_L1, audience },
                        { "tokens"_L1, tokens } } },
        { "theirs"_L1, QJsonObject { { "issuer"_L1, u"https://node.test"_s }, { "audience"_L1, u"realtime"_s } } },
    };

    QProcess peer;
    peer.setWorkingDirectory(crosscheckDir());
    peer.start(node, { u"jose-peer.mjs"_s });
    QVERIFY(peer.waitForStarted());
    peer.write(QJsonDocument(request).toJson(QJsonDocument::Compact));
    peer.closeWriteChannel();
    QVERIFY(peer.waitForFinished(60000));
    QVERIFY2(peer.exitCode() == 0, peer.readAllStandardError().constData());
    m_answer = QJsonDocument::fromJson(peer.readAllStandardOutput()).object();
    QVERIFY(!m_answer.isEmpty());
}

void TestJoseCrosscheck::oursVerifyInJose()
{
    const auto verified = m_answer.value("verified"_L1).toArray();
    QCOMPARE(verified.size(), m_ours.size());
    for (qsizetype i = 0; i < m_ours.size(); ++i) {
        const auto result = verified.at(i).toObject();
        QCOMPARE(result.value("name"_L1).toString(), m_ours[i].name);
        QVERIFY2(result.value("accepted"_L1).toBool() == m_ours[i].valid,
                 qPrintable(m_ours[i].name + u": jose said "_s + result.value("reason"_L1).toString(u"accepted"_s)));
    }
}

void TestJoseCrosscheck::joseTokensVerifyInOurs()
{
    const auto theirs = m_answer.value("theirs"_L1).toObject();
    auto keys = JsonWebKeySet::parse(theirs.value("jwks"_L1).toObject(), JsonWebKeySet::Symmetric::Refused);
    QVERIFY2(keys.ok(), keys.ok() ? "" : qPrintable(keys.error()));
    const auto hs = theirs.value("hs256"_L1).toObject();
    keys->append(*JsonWebKey::fromSecret(*Base64Url::decode(hs.value("k"_L1).toString().toLatin1()),
                                         JwsAlgorithm::HS256, hs.value("kid"_L1).toString()));
    const auto set
        = KeySet::build(*keys, IssuerPolicy { u"https://node.test"_s, u"realtime"_s, u"at+jwt"_s, true }, {});
    QVERIFY(set.ok());
    const TokenVerifier verifier(*set, {});
    int checked = 0;
    for (const auto &value : theirs.value("tokens"_L1).toArray()) {
        const auto token = value.toObject();
        const auto result
            = verifier.verify(token.value("token"_L1).toString().toLatin1(), std::chrono::system_clock::now());
        const QString outcome = result.ok() ? u"accepted"_s : QString(tokenErrorCode(result.error()));
        QCOMPARE(outcome + u" ("_s + token.value("name"_L1).toString() + u')',
                 token.value("expect"_L1).toString() + u" ("_s + token.value("name"_L1).toString() + u')');
        ++checked;
    }
    QCOMPARE(checked, 10);
}

QTEST_GUILESS_MAIN(TestJoseCrosscheck)
#include "tst_josecrosscheck.moc"
