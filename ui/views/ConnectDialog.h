#pragma once

#include <QDialog>
#include <QSslCertificate>
#include <QUrl>

class QLabel;
class QLineEdit;

/// File → Connect to server…: the address of a running Gatehouse, an admin token for it, and
/// optionally a certificate to trust (a lab's self-signed one). Checks them before it accepts.
class ConnectDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectDialog)

public:
    explicit ConnectDialog(QWidget *parent = nullptr);

    QUrl url() const;
    QByteArray token() const;
    QList<QSslCertificate> trusted() const { return m_trusted; }

    void accept() override;

private:
    QLineEdit *m_url = nullptr;
    QLineEdit *m_token = nullptr;
    QLineEdit *m_certificate = nullptr;
    QLabel *m_problem = nullptr;
    QList<QSslCertificate> m_trusted;
};
