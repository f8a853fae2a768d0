#include "views/UsersAdminView.h"

#include "ServerFacade.h"
#include "models/NaturalSortProxy.h"
#include "models/UsersModel.h"
#include "views/Confirmation.h"
#include "views/UserDialog.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

UsersAdminView::UsersAdminView(ServerFacade &server, UsersModel &model, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_proxy(new NaturalSortProxy(this))
    , m_table(new QTableView(this))
    , m_enable(new QPushButton(tr("&Disable"), this))
    , m_password(new QPushButton(tr("Reset &password…"), this))
    , m_roles(new QPushButton(tr("Edit &roles…"), this))
    , m_message(new QLabel(this))
{
    m_proxy->setSourceModel(&model);
    m_proxy->setSortRole(UsersModel::SortRole);
    m_table->setObjectName(u"usersAdminTable"_s);
    m_table->setAccessibleName(tr("Users to administer"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(UsersModel::Username, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    for (const int hidden : { int(UsersModel::Devices), int(UsersModel::Connections), int(UsersModel::LastActivity) })
        m_table->setColumnHidden(hidden, true);

    auto *add = new QPushButton(tr("&Add user…"), this);
    add->setObjectName(u"addUserButton"_s);
    m_enable->setObjectName(u"toggleUserButton"_s);
    m_password->setObjectName(u"resetPasswordButton"_s);
    m_roles->setObjectName(u"editRolesButton"_s);
    m_message->setObjectName(u"usersAdminMessage"_s);
    auto *buttons = new QHBoxLayout;
    for (auto *button : { add, m_enable, m_password, m_roles })
        buttons->addWidget(button);
    buttons->addStretch();
    buttons->addWidget(m_message);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_table, 1);

    connect(add, &QPushButton::clicked, this, &UsersAdminView::addUser);
    const auto offer = [this, add] {
        add->setEnabled(m_server.mayAdminister());
        add->setToolTip(m_server.mayAdminister() ? QString() : tr("managing users needs a full admin token"));
        updateButtons();
    };
    connect(&m_server, &ServerFacade::stateChanged, this, offer);
    connect(m_enable, &QPushButton::clicked, this, &UsersAdminView::toggleEnabled);
    connect(m_password, &QPushButton::clicked, this, &UsersAdminView::resetPassword);
    connect(m_roles, &QPushButton::clicked, this, &UsersAdminView::editRoles);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &UsersAdminView::updateButtons);
    connect(&model, &QAbstractItemModel::dataChanged, this, &UsersAdminView::updateButtons);
    offer();
}

QString UsersAdminView::currentUser() const
{
    return m_table->currentIndex().data(UsersModel::UsernameRole).toString();
}

void UsersAdminView::updateButtons()
{
    const QModelIndex current = m_table->currentIndex();
    // An external issuer's user is not in the directory: there is nothing to edit here.
    // Attached with a token short of full: nothing here is offered (the server would refuse it).
    const bool any
        = m_server.mayAdminister() && current.isValid() && current.data(UsersModel::IssuerRole).toString().isEmpty();
    const bool enabled = current.data(UsersModel::EnabledRole).toBool();
    m_enable->setEnabled(any);
    m_enable->setText(any && !enabled ? tr("&Enable") : tr("&Disable"));
    m_password->setEnabled(any);
    m_roles->setEnabled(any);
}

void UsersAdminView::report(const QString &success, const QString &error)
{
    const QString message = error.isEmpty() ? success : tr("Failed: %1").arg(error);
    m_message->setText(message);
    Q_EMIT outcome(message);
}

void UsersAdminView::addUser()
{
    if (!m_server.mayAdminister())
        return report({}, tr("managing users needs a full admin token"));
    auto *dialog = new UserDialog(UserDialog::Mode::AddUser, {}, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString username = dialog->username();
        m_server.addUser(username, dialog->displayName(), dialog->password(), dialog->roles(), this,
                         [this, username](const QString &error) { report(tr("User %1 added").arg(username), error); });
    });
    dialog->open();
}

void UsersAdminView::toggleEnabled()
{
    const QString username = currentUser();
    if (username.isEmpty())
        return;
    const bool enable = !m_table->currentIndex().data(UsersModel::EnabledRole).toBool();
    const auto act = [this, username, enable] {
        m_server.setUserEnabled(username, enable, this, [this, username, enable](const QString &error) {
            report(enable ? tr("%1 enabled").arg(username)
                          : tr("%1 disabled: sessions revoked, connections closed").arg(username),
                   error);
        });
    };
    if (enable) {
        act();
        return;
    }
    confirmThen(this, tr("Disable user?"),
                tr("Disable %1? Every session is revoked at once and live connections close with 4003.").arg(username),
                tr("Disable"), act);
}

void UsersAdminView::resetPassword()
{
    const QString username = currentUser();
    if (username.isEmpty())
        return;
    auto *dialog = new UserDialog(UserDialog::Mode::ResetPassword, username, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, username] {
        m_server.setPassword(username, dialog->password(), this, [this, username](const QString &error) {
            report(tr("Password of %1 reset: existing sessions revoked").arg(username), error);
        });
    });
    dialog->open();
}

void UsersAdminView::editRoles()
{
    const QString username = currentUser();
    if (username.isEmpty())
        return;
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(u"rolesDialog"_s);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Roles of %1").arg(username));
    dialog->setLabelText(tr("Roles, comma-separated:"));
    dialog->setTextValue(m_table->currentIndex().siblingAtColumn(UsersModel::Roles).data().toString());
    connect(dialog, &QInputDialog::textValueSelected, this, [this, username](const QString &text) {
        QStringList roles;
        for (const auto &role : text.split(u',', Qt::SkipEmptyParts)) {
            if (!role.trimmed().isEmpty())
                roles.append(role.trimmed());
        }
        m_server.setRoles(username, roles, this, [this, username](const QString &error) {
            report(tr("Roles of %1 changed: live sessions re-evaluated").arg(username), error);
        });
    });
    dialog->open();
}
