#include "views/KeysView.h"

#include "ServerFacade.h"
#include "views/Confirmation.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

KeysView::KeysView(ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_table(new QTableWidget(0, 5, this))
    , m_jwks(new QPlainTextEdit(this))
{
    m_table->setObjectName(u"keysTable"_s);
    m_table->setAccessibleName(tr("Signing keys"));
    m_table->setHorizontalHeaderLabels(
        { tr("Key id"), tr("Algorithm"), tr("State"), tr("Created"), tr("Verifies until") });
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->resizeSection(0, 260);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_jwks->setObjectName(u"jwksText"_s);
    m_jwks->setAccessibleName(tr("JSON Web Key Set"));
    m_jwks->setReadOnly(true);
    m_jwks->setFont(QFont(u"monospace"_s));

    auto *rotate = new QPushButton(tr("&Rotate signing key…"), this);
    rotate->setObjectName(u"rotateKeyButton"_s);
    // Attached with a token short of full, rotating is not offered (the server would refuse it).
    const auto offer = [this, rotate] {
        rotate->setEnabled(m_server.mayAdminister());
        rotate->setToolTip(m_server.mayAdminister() ? QString() : tr("rotating the key needs a full admin token"));
    };
    connect(&server, &ServerFacade::stateChanged, this, offer);
    offer();
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(rotate);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_table, 1);
    layout->addWidget(new QLabel(tr("Published JWKS (/.well-known/jwks.json)"), this));
    layout->addWidget(m_jwks, 1);

    connect(rotate, &QPushButton::clicked, this, [this] {
        confirmThen(this, tr("Rotate the signing key?"),
                    tr("A new key signs from now on; the current one keeps verifying the tokens it signed until "
                       "they expire."),
                    tr("Rotate"), [this] {
                        m_server.rotateSigningKey(this, [this](const QString &error) {
                            Q_EMIT outcome(error.isEmpty() ? tr("Signing key rotation started")
                                                           : tr("Rotation failed: %1").arg(error));
                        });
                    });
    });
    connect(&server, &ServerFacade::signingKeysChanged, this, &KeysView::showKeys);
    connect(&server, &ServerFacade::snapshotReady, this,
            [this](const ConsoleSnapshot &snapshot) { showKeys(snapshot.signingKeys, snapshot.jwks); });
}

void KeysView::showKeys(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks)
{
    const auto when = [](qint64 seconds) {
        return seconds == 0 ? QString()
                            : QLocale().toString(QDateTime::fromSecsSinceEpoch(seconds), QLocale::ShortFormat);
    };
    m_table->setRowCount(int(keys.size()));
    for (int row = 0; row < keys.size(); ++row) {
        const auto &key = keys.at(row);
        const QStringList cells { key.keyId, key.algorithm, key.active ? tr("signing") : tr("verifying only"),
                                  when(key.createdAt), key.active ? tr("—") : when(key.verifyUntil) };
        for (int column = 0; column < cells.size(); ++column)
            m_table->setItem(row, column, new QTableWidgetItem(cells.at(column)));
    }
    m_jwks->setPlainText(QString::fromUtf8(QJsonDocument(jwks).toJson(QJsonDocument::Indented)));
}
