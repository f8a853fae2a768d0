#include "views/ConnectDialog.h"

#include "RememberedTokens.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr auto lookUpDelay = 250ms; // while the address is being typed
const auto placeholder
    = QT_TRANSLATE_NOOP("ConnectDialog", "gha_… (gatehoused admin-token show, or add NAME --scope viewer)");
} // namespace

ConnectDialog::ConnectDialog(RememberedTokens *tokens, QWidget *parent)
    : QDialog(parent)
    , m_tokens(tokens)
{
    setObjectName(u"connectDialog"_s);
    setWindowTitle(tr("Connect to server"));
    m_url = new QLineEdit(this);
    m_url->setObjectName(u"connectUrl"_s);
    m_url->setPlaceholderText(u"https://gatehouse.example:8443"_s);
    m_token = new QLineEdit(this);
    m_token->setObjectName(u"connectToken"_s);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr(placeholder));
    m_rememberedLabel = new QLabel(this);
    m_rememberedLabel->setObjectName(u"rememberedTokenLabel"_s);
    m_rememberedLabel->setWordWrap(true);
    m_rememberedLabel->hide();
    m_forget = new QPushButton(tr("Forget it"), this);
    m_forget->setObjectName(u"forgetTokenButton"_s);
    m_forget->hide();
    connect(m_forget, &QPushButton::clicked, this, &ConnectDialog::forgetRememberedToken);
    auto *rememberedRow = new QHBoxLayout;
    rememberedRow->addWidget(m_rememberedLabel, 1);
    rememberedRow->addWidget(m_forget);
    m_remember = new QCheckBox(tr("Remember the token on this computer"), this);
    m_remember->setObjectName(u"rememberCheckBox"_s);
    m_remember->setToolTip(tr("Kept in the Secret Service (or in owner-only files with --secret-store file) once the "
                              "server has accepted it."));
    m_remember->setEnabled(!m_tokens.isNull());
    m_certificate = new QLineEdit(this);
    m_certificate->setObjectName(u"connectCertificate"_s);
    m_certificate->setPlaceholderText(tr("optional: a certificate to trust (PEM)"));
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file
            = QFileDialog::getOpenFileName(this, tr("Certificate to trust"), {}, tr("PEM (*.pem *.crt)"));
        if (!file.isEmpty())
            m_certificate->setText(file);
    });
    auto *certificateRow = new QHBoxLayout;
    certificateRow->addWidget(m_certificate);
    certificateRow->addWidget(browse);
    m_problem = new QLabel(this);
    m_problem->setObjectName(u"connectProblem"_s);
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(u"color: #b3261e"_s);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ConnectDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ConnectDialog::reject);
    auto *form = new QFormLayout(this);
    form->addRow(tr("Server:"), m_url);
    form->addRow(tr("Admin token:"), m_token);
    form->addRow(rememberedRow);
    form->addRow(m_remember);
    form->addRow(tr("Trust:"), certificateRow);
    form->addRow(m_problem);
    form->addRow(buttons);

    m_lookUp = new QTimer(this);
    m_lookUp->setSingleShot(true);
    m_lookUp->setInterval(lookUpDelay);
    connect(m_lookUp, &QTimer::timeout, this, &ConnectDialog::lookUpRememberedToken);
    connect(m_url, &QLineEdit::textChanged, this, [this] {
        m_remembered.reset();
        m_lookedUpKey.clear();
        m_rememberedLabel->hide();
        m_forget->hide();
        m_token->setPlaceholderText(tr(placeholder));
        if (m_tokens)
            m_lookUp->start();
    });
}

void ConnectDialog::setUrl(const QUrl &url)
{
    m_url->setText(url.toString());
}

void ConnectDialog::setCertificateFile(const QString &path)
{
    m_certificate->setText(path);
}

void ConnectDialog::setRememberToken(bool remember)
{
    m_remember->setChecked(remember && m_tokens);
}

QUrl ConnectDialog::url() const
{
    return QUrl(m_url->text().trimmed(), QUrl::StrictMode);
}

void ConnectDialog::showRemembered(const QString &message, bool offerToForget)
{
    m_rememberedLabel->setText(message);
    m_rememberedLabel->show();
    m_forget->setVisible(offerToForget);
}

void ConnectDialog::lookUpRememberedToken()
{
    const auto key = RememberedTokens::serverKey(url());
    if (!m_tokens || !key)
        return;
    m_tokens->find(url(), this, [this, key = *key](Result<std::optional<QByteArray>, QString> found) {
        const auto current = RememberedTokens::serverKey(url());
        if (!current || *current != key)
            return; // the address changed meanwhile; its own look-up answers for it
        m_lookedUpKey = key;
        if (found && found.value()) {
            m_remembered = *found.value();
            showRemembered(tr("A token is remembered for %1: leave the token empty to use it.").arg(key), true);
            m_token->setPlaceholderText(tr("the remembered token"));
        } else if (!found) {
            showRemembered(tr("The token remembered for this server cannot be used (%1). Forget it, or enter a token "
                              "and tick \"Remember\" to replace it.")
                               .arg(found.error()),
                           true);
        }
        if (std::exchange(m_acceptWhenAnswered, false))
            accept();
    });
}

void ConnectDialog::forgetRememberedToken()
{
    if (!m_tokens)
        return;
    const QUrl server = url();
    m_tokens->forget(server, this, [this, server](const QString &error) {
        if (!error.isEmpty())
            return showRemembered(error, true);
        if (url() == server)
            m_remembered.reset();
        m_token->setPlaceholderText(tr(placeholder));
        showRemembered(tr("Forgotten: no token is remembered for %1 any more.").arg(server.authority()), false);
    });
}

void ConnectDialog::accept()
{
    const QUrl address = url();
    if (!address.isValid() || (address.scheme() != "http"_L1 && address.scheme() != "https"_L1)
        || address.host().isEmpty()) {
        m_problem->setText(tr("The server is http://host:port or https://host:port."));
        return;
    }
    AttachRequest request { address, m_token->text().trimmed().toLatin1(), {}, m_remember->isChecked(), false };
    if (request.token.isEmpty() && m_tokens) {
        const auto key = RememberedTokens::serverKey(address);
        if (key && m_lookedUpKey != *key) {
            // Not looked up yet for this address: answer once it is.
            m_problem->setText(tr("Looking for a remembered token…"));
            m_acceptWhenAnswered = true;
            m_lookUp->stop();
            lookUpRememberedToken();
            return;
        }
        if (m_remembered) {
            request.token = *m_remembered;
            request.tokenWasRemembered = true;
        }
    }
    if (!request.token.startsWith("gha_")) {
        m_problem->setText(tr("An admin token starts with gha_."));
        return;
    }
    if (!m_certificate->text().isEmpty()) {
        QFile file(m_certificate->text());
        if (!file.open(QIODevice::ReadOnly)
            || (request.trusted = QSslCertificate::fromData(file.readAll())).isEmpty()) {
            m_problem->setText(tr("%1 holds no PEM certificate.").arg(m_certificate->text()));
            return;
        }
    }
    m_problem->clear();
    m_request = std::move(request);
    QDialog::accept();
}
