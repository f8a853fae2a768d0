#include "views/UserDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

using namespace Qt::StringLiterals;

UserDialog::UserDialog(Mode mode, const QString &username, QWidget *parent)
    : QDialog(parent)
    , m_mode(mode)
    , m_username(new QLineEdit(username, this))
    , m_displayName(new QLineEdit(this))
    , m_password(new QLineEdit(this))
    , m_repeat(new QLineEdit(this))
    , m_roles(new QLineEdit(this))
    , m_problem(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(u"userDialog"_s);
    setWindowTitle(mode == Mode::AddUser ? tr("Add user") : tr("Reset password of %1").arg(username));
    m_username->setObjectName(u"usernameEdit"_s);
    m_username->setReadOnly(mode == Mode::ResetPassword);
    m_displayName->setObjectName(u"displayNameEdit"_s);
    m_password->setObjectName(u"passwordEdit"_s);
    m_repeat->setObjectName(u"repeatPasswordEdit"_s);
    m_roles->setObjectName(u"rolesEdit"_s);
    m_roles->setPlaceholderText(tr("comma-separated, e.g. user, admin"));
    for (auto *edit : { m_password, m_repeat })
        edit->setEchoMode(QLineEdit::Password);
    m_problem->setObjectName(u"userDialogProblem"_s);
    m_problem->setStyleSheet(u"color: #c0392b"_s);

    auto *form = new QFormLayout(this);
    form->addRow(tr("User name"), m_username);
    if (mode == Mode::AddUser)
        form->addRow(tr("Display name"), m_displayName);
    form->addRow(tr("Password"), m_password);
    form->addRow(tr("Repeat password"), m_repeat);
    if (mode == Mode::AddUser)
        form->addRow(tr("Roles"), m_roles);
    else {
        m_displayName->hide();
        m_roles->hide();
    }
    form->addRow(m_problem);
    form->addRow(m_buttons);
    for (auto *edit : { m_username, m_password, m_repeat })
        connect(edit, &QLineEdit::textChanged, this, &UserDialog::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    validate();
}

QString UserDialog::username() const
{
    return m_username->text().trimmed();
}

QString UserDialog::displayName() const
{
    return m_displayName->text().trimmed();
}

QByteArray UserDialog::password() const
{
    return m_password->text().toUtf8();
}

QStringList UserDialog::roles() const
{
    QStringList roles;
    for (const auto &role : m_roles->text().split(u',', Qt::SkipEmptyParts)) {
        if (!role.trimmed().isEmpty())
            roles.append(role.trimmed());
    }
    return roles;
}

void UserDialog::validate()
{
    QString problem;
    if (username().isEmpty())
        problem = tr("Enter a user name.");
    else if (m_password->text().size() < 8)
        problem = tr("The password needs at least 8 characters.");
    else if (m_password->text() != m_repeat->text())
        problem = tr("The passwords differ.");
    m_problem->setText(problem);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}
