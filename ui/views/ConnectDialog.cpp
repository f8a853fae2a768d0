#include "views/ConnectDialog.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

using namespace Qt::StringLiterals;

ConnectDialog::ConnectDialog(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(u"connectDialog"_s);
    setWindowTitle(tr("Connect to server"));
    m_url = new QLineEdit(this);
    m_url->setObjectName(u"connectUrl"_s);
    m_url->setPlaceholderText(u"https://gatehouse.example:8443"_s);
    m_token = new QLineEdit(this);
    m_token->setObjectName(u"connectToken"_s);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("gha_… (gatehoused admin-token show, or add NAME --scope viewer)"));
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
    form->addRow(tr("Trust:"), certificateRow);
    form->addRow(m_problem);
    form->addRow(buttons);
}

QUrl ConnectDialog::url() const
{
    return QUrl(m_url->text().trimmed(), QUrl::StrictMode);
}

QByteArray ConnectDialog::token() const
{
    return m_token->text().trimmed().toLatin1();
}

void ConnectDialog::accept()
{
    const QUrl address = url();
    if (!address.isValid() || (address.scheme() != "http"_L1 && address.scheme() != "https"_L1)
        || address.host().isEmpty()) {
        m_problem->setText(tr("The server is http://host:port or https://host:port."));
        return;
    }
    if (!token().startsWith("gha_")) {
        m_problem->setText(tr("An admin token starts with gha_."));
        return;
    }
    m_trusted.clear();
    if (!m_certificate->text().isEmpty()) {
        QFile file(m_certificate->text());
        if (!file.open(QIODevice::ReadOnly) || (m_trusted = QSslCertificate::fromData(file.readAll())).isEmpty()) {
            m_problem->setText(tr("%1 holds no PEM certificate.").arg(m_certificate->text()));
            return;
        }
    }
    QDialog::accept();
}
