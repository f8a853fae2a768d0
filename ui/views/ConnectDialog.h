#pragma once

#include "remote/AttachRequest.h"

#include <QDialog>
#include <QPointer>
#include <QSslCertificate>
#include <QUrl>

#include <optional>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class RememberedTokens;

/// File → Connect to server… (and `gatehouse --connect` without a remembered token): the
/// address of a running Gatehouse, an admin token for it, and optionally a certificate to
/// trust (a lab's self-signed one). With `tokens`, it says when a token is remembered for the
/// address typed (the token field may then be left empty), offers to forget it, and can ask
/// for the token to be remembered. Checks everything before it accepts.
class ConnectDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectDialog)

public:
    explicit ConnectDialog(RememberedTokens *tokens = nullptr, QWidget *parent = nullptr);

    void setUrl(const QUrl &url);
    void setCertificateFile(const QString &path);
    void setRememberToken(bool remember);

    QUrl url() const;
    /// What the dialog was accepted with.
    AttachRequest request() const { return m_request; }

    void accept() override;

private:
    void lookUpRememberedToken();
    void forgetRememberedToken();
    void showRemembered(const QString &message, bool offerToForget);

    QPointer<RememberedTokens> m_tokens;
    QLineEdit *m_url = nullptr;
    QLineEdit *m_token = nullptr;
    QLineEdit *m_certificate = nullptr;
    QCheckBox *m_remember = nullptr;
    QLabel *m_rememberedLabel = nullptr;
    QPushButton *m_forget = nullptr;
    QLabel *m_problem = nullptr;
    QTimer *m_lookUp = nullptr;
    QString m_lookedUpKey; ///< the server the answer below is for
    std::optional<QByteArray> m_remembered;
    bool m_acceptWhenAnswered = false;
    AttachRequest m_request;
};
