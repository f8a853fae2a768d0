#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

/// Asks for a new user (name, display name, password twice, roles) or, in password mode, for
/// a new password only. Checks what it can before the server does: matching passwords, a
/// name, a password of at least 8 characters.
class UserDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UserDialog)

public:
    enum class Mode { AddUser, ResetPassword };

    UserDialog(Mode mode, const QString &username, QWidget *parent = nullptr);

    QString username() const;
    QString displayName() const;
    QByteArray password() const;
    QStringList roles() const;

private:
    void validate();

    Mode m_mode;
    QLineEdit *m_username = nullptr;
    QLineEdit *m_displayName = nullptr;
    QLineEdit *m_password = nullptr;
    QLineEdit *m_repeat = nullptr;
    QLineEdit *m_roles = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};
