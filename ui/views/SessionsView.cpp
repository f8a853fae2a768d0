#include "views/SessionsView.h"

#include "models/Numerus.h"

#include "ServerFacade.h"
#include "UserKey.h"
#include "models/LiveState.h"
#include "models/NaturalSortProxy.h"
#include "models/SessionTreeModel.h"
#include "models/UsersModel.h"
#include "views/Confirmation.h"
#include "views/CountdownDelegate.h"
#include "views/InspectorDialog.h"

#include <QAction>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;
using Kind = SessionTreeModel::Kind;

SessionsView::SessionsView(ServerFacade &server, LiveState &state, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_state(state)
    , m_usersModel(new UsersModel(state, this))
    , m_usersProxy(new NaturalSortProxy(this))
    , m_treeModel(new SessionTreeModel(state, this))
    , m_search(new QLineEdit(this))
    , m_users(new QTableView(this))
    , m_tree(new QTreeView(this))
    , m_outcome(new QLabel(this))
{
    m_usersProxy->setSourceModel(m_usersModel);
    m_usersProxy->setSortRole(UsersModel::SortRole);
    m_usersProxy->setFilterKeyColumn(-1);
    m_usersProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_usersProxy->setDynamicSortFilter(false); // re-sorting on every burst would make rows jump

    m_search->setObjectName(u"userSearch"_s);
    m_search->setPlaceholderText(tr("Search users, roles…"));
    m_search->setAccessibleName(tr("Search users"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, m_usersProxy, &QSortFilterProxyModel::setFilterFixedString);

    m_users->setObjectName(u"usersTable"_s);
    m_users->setAccessibleName(tr("Users"));
    m_users->setModel(m_usersProxy);
    m_users->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_users->setSelectionMode(QAbstractItemView::SingleSelection);
    m_users->setSortingEnabled(true);
    m_users->sortByColumn(UsersModel::Username, Qt::AscendingOrder);
    // Without dynamic sorting a new user would be appended below the sorted rows: a user's
    // arrival sorts the table once (a row's live figures changing still moves nothing).
    connect(m_usersModel, &QAbstractItemModel::rowsInserted, m_users, [this] {
        m_users->sortByColumn(m_users->horizontalHeader()->sortIndicatorSection(),
                              m_users->horizontalHeader()->sortIndicatorOrder());
    });
    m_users->verticalHeader()->hide();
    m_users->horizontalHeader()->setStretchLastSection(true);
    m_users->setColumnHidden(UsersModel::DisplayName, true);
    for (const auto &[column, width] : { std::pair { UsersModel::Username, 110 },
                                         { UsersModel::State, 70 },
                                         { UsersModel::Devices, 60 },
                                         { UsersModel::Connections, 90 },
                                         { UsersModel::LastActivity, 130 } })
        m_users->horizontalHeader()->resizeSection(column, width);
    m_users->verticalHeader()->setDefaultSectionSize(m_users->fontMetrics().height() + 8);
    m_users->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_users->setAlternatingRowColors(true);

    m_tree->setObjectName(u"sessionTree"_s);
    m_tree->setAccessibleName(tr("Devices, sessions and connections"));
    m_tree->setModel(m_treeModel);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *countdown = new CountdownDelegate(m_tree);
    m_tree->setItemDelegateForColumn(SessionTreeModel::AccessToken, countdown);
    m_tree->setItemDelegateForColumn(SessionTreeModel::RefreshToken, countdown);
    m_tree->header()->resizeSection(SessionTreeModel::Name, 200);
    m_tree->header()->resizeSection(SessionTreeModel::State, 190);
    m_tree->header()->resizeSection(SessionTreeModel::AccessToken, 120);
    m_tree->header()->resizeSection(SessionTreeModel::RefreshToken, 120);
    m_tree->header()->resizeSection(SessionTreeModel::SessionLimits, 190);
    connect(m_treeModel, &QAbstractItemModel::rowsInserted, m_tree,
            [this](const QModelIndex &where) { m_tree->expand(where); });
    connect(m_treeModel, &QAbstractItemModel::modelReset, m_tree, &QTreeView::expandAll);

    const auto makeAction = [this](const QString &text, const QString &name, const QKeySequence &shortcut,
                                   const QString &tip, auto slot) {
        auto *action = new QAction(text, this);
        action->setObjectName(name);
        action->setShortcut(shortcut);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        action->setToolTip(u"%1 (%2)"_s.arg(tip, shortcut.toString(QKeySequence::NativeText)));
        connect(action, &QAction::triggered, this, slot);
        addAction(action);
        return action;
    };
    m_disconnect = makeAction(tr("&Disconnect"), u"disconnectAction"_s, QKeySequence(Qt::CTRL | Qt::Key_D),
                              tr("Close the selected connection, device or user's connections with 4000; tokens "
                                 "stay valid, clients may reconnect"),
                              &SessionsView::disconnectSelected);
    m_revokeSession = makeAction(tr("&Revoke session"), u"revokeSessionAction"_s, QKeySequence(Qt::Key_Delete),
                                 tr("End the selected session: its refresh tokens die, its access tokens are "
                                    "refused, its connections close with 4003"),
                                 &SessionsView::revokeSelectedSession);
    m_revokeUser = makeAction(
        tr("Log out &everywhere"), u"revokeUserAction"_s, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
        tr("Single logout: revoke every session of the user on every device"), &SessionsView::revokeSelectedUser);
    m_revokeBefore = makeAction(
        tr("Revoke tokens issued &before now"), u"revokeBeforeAction"_s, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B),
        tr("Refuse every token of the user issued before this moment"), &SessionsView::revokeSelectedBefore);
    m_broadcast = makeAction(tr("&Broadcast…"), u"broadcastAction"_s, QKeySequence(Qt::CTRL | Qt::Key_M),
                             tr("Send a message to the selected user's connections, or to everyone"),
                             [this] { broadcastMessage(m_treeModel->user()); });
    m_broadcastAll = makeAction(tr("Broadcast to &everyone…"), u"broadcastAllAction"_s,
                                QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M),
                                tr("Send a message to every live connection"), [this] { broadcastMessage({}); });
    m_inspect = makeAction(tr("&Inspect messages…"), u"inspectAction"_s, QKeySequence(Qt::CTRL | Qt::Key_I),
                           tr("Watch the selected connection's messages as they pass (audited)"),
                           [this] { inspectSelected(); });
    m_users->addActions({ m_disconnect, m_revokeUser, m_revokeBefore, m_broadcast });
    m_tree->addActions({ m_inspect, m_disconnect, m_revokeSession, m_revokeUser, m_broadcast });
    connect(&server, &ServerFacade::snapshotReady, this,
            [this](const ConsoleSnapshot &snapshot) { m_inspectPayloads = snapshot.statistics.inspectPayloads; });
    connect(&server, &ServerFacade::statisticsSampled, this,
            [this](const ServerStatistics &statistics) { m_inspectPayloads = statistics.inspectPayloads; });

    auto *bar = new QHBoxLayout;
    for (auto *action :
         { m_disconnect, m_revokeSession, m_revokeUser, m_revokeBefore, m_broadcast, m_broadcastAll, m_inspect }) {
        auto *button = new QToolButton(this);
        button->setDefaultAction(action);
        button->setAccessibleName(action->text().remove(u'&').remove(u"…"_s));
        bar->addWidget(button);
    }
    bar->addStretch();
    m_outcome->setObjectName(u"outcomeLabel"_s);
    m_outcome->setAccessibleName(tr("Outcome of the last action"));
    bar->addWidget(m_outcome);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_search);
    leftLayout->addWidget(m_users);
    auto *splitter = new QSplitter(this);
    splitter->setObjectName(u"sessionsSplitter"_s);
    splitter->addWidget(left);
    splitter->addWidget(m_tree);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({ 430, 850 });
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(splitter, 1);

    connect(m_users->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &SessionsView::handleUserSelected);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &SessionsView::updateActions);
    connect(m_treeModel, &QAbstractItemModel::modelReset, this, &SessionsView::updateActions);
    // Countdowns move every second: repaint what is visible, nothing else.
    auto *tick = new QTimer(this);
    tick->setInterval(1000);
    connect(tick, &QTimer::timeout, m_tree->viewport(), qOverload<>(&QWidget::update));
    tick->start();
    updateActions();
}

void SessionsView::selectUser(const QString &username)
{
    const QModelIndex index = m_usersProxy->mapFromSource(m_usersModel->indexOfUser(username));
    if (index.isValid())
        m_users->setCurrentIndex(index);
}

QString SessionsView::selectedUser() const
{
    return m_treeModel->user();
}

QList<QAction *> SessionsView::userActions() const
{
    return { m_disconnect, m_revokeSession, m_revokeUser, m_revokeBefore, m_broadcast, m_broadcastAll, m_inspect };
}

InspectorDialog *SessionsView::inspectSelected()
{
    const QModelIndex current = currentTreeIndex();
    if (!current.isValid() || Kind(current.data(SessionTreeModel::KindRole).toInt()) != Kind::Connection)
        return nullptr;
    const quint64 id = current.data(SessionTreeModel::ConnectionIdRole).toULongLong();
    const ConnectionInfo *connection = m_state.connection(id);
    if (!connection)
        return nullptr;
    auto &dialog = m_inspectors[id];
    if (!dialog)
        dialog = new InspectorDialog(m_server, *connection, m_inspectPayloads, window());
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
    return dialog;
}

void SessionsView::handleUserSelected()
{
    const QModelIndex current = m_users->currentIndex();
    m_treeModel->setUser(current.isValid() ? current.data(UsersModel::UsernameRole).toString() : QString());
    updateActions();
}

QModelIndex SessionsView::currentTreeIndex() const
{
    return m_tree->currentIndex();
}

void SessionsView::updateActions()
{
    const bool user = !m_treeModel->user().isEmpty();
    const UserKey key = UserKey::fromString(m_treeModel->user());
    const QModelIndex current = currentTreeIndex();
    const auto kind = current.isValid() ? Kind(current.data(SessionTreeModel::KindRole).toInt()) : Kind::User;
    // Attached with a viewer's token: nothing is offered that the server would refuse.
    const bool operate = m_server.mayOperate();
    m_disconnect->setEnabled(operate && user);
    // An external issuer's user has no sessions here: only its tokens can be cut off.
    m_revokeSession->setEnabled(operate && user && key.isLocal()
                                && (kind == Kind::Session || kind == Kind::Connection));
    m_revokeUser->setEnabled(operate && user && key.isLocal());
    m_revokeBefore->setEnabled(operate && user);
    m_broadcast->setEnabled(operate && user);
    m_broadcastAll->setEnabled(operate);
    // Reading is every scope's: a viewer may inspect.
    const ConnectionInfo *connection = kind == Kind::Connection
        ? m_state.connection(current.data(SessionTreeModel::ConnectionIdRole).toULongLong())
        : nullptr;
    m_inspect->setEnabled(user && connection && !LiveState::isClosed(*connection));
    m_outcome->setToolTip(operate ? QString() : tr("viewer: read only"));
    if (!operate && m_outcome->text().isEmpty())
        m_outcome->setText(tr("viewer: read only"));
    QString what = tr("all of %1's connections").arg(key.displayName());
    if (kind == Kind::Connection)
        what = tr("connection %1").arg(current.data(SessionTreeModel::ConnectionIdRole).toULongLong());
    else if (kind == Kind::Device || kind == Kind::Session)
        what = tr("device %1").arg(current.data(SessionTreeModel::DeviceRole).toString());
    m_disconnect->setText(user ? tr("&Disconnect %1").arg(what) : tr("&Disconnect"));
}

QString SessionsView::describe(const AdminOutcome &outcome)
{
    if (!outcome.ok())
        return tr("Failed: %1").arg(outcome.error);
    const QString elapsed = QLocale().toString(outcome.elapsedMs, 'f', outcome.elapsedMs < 10 ? 1 : 0);
    if (outcome.action == "admin_broadcast"_L1)
        return numerus(tr("Delivered to %n connection(s) in %1 ms", nullptr, outcome.affected), outcome.affected)
            .arg(elapsed);
    if (outcome.action.startsWith("admin_disconnected"_L1))
        return numerus(tr("%n connection(s) closed in %1 ms", nullptr, outcome.closed), outcome.closed).arg(elapsed);
    return numerus(tr("%n session(s) revoked, %1 in %2 ms", nullptr, outcome.affected), outcome.affected)
        .arg(numerus(tr("%n connection(s) closed", nullptr, outcome.closed), outcome.closed), elapsed);
}

void SessionsView::report(const AdminOutcome &result)
{
    const QString message = describe(result);
    m_outcome->setText(message);
    Q_EMIT outcome(message);
}

void SessionsView::disconnectSelected()
{
    if (m_treeModel->user().isEmpty())
        return;
    const UserKey user = UserKey::fromString(m_treeModel->user());
    const QModelIndex current = currentTreeIndex();
    const auto kind = current.isValid() ? Kind(current.data(SessionTreeModel::KindRole).toInt()) : Kind::User;
    const QString what = m_disconnect->text().remove(u'&');
    std::function<void()> act;
    if (kind == Kind::Connection) {
        const quint64 id = current.data(SessionTreeModel::ConnectionIdRole).toULongLong();
        act = [this, id] { m_server.disconnectConnection(id, this, [this](const auto &o) { report(o); }); };
    } else if (kind == Kind::Device || kind == Kind::Session) {
        const QString device = current.data(SessionTreeModel::DeviceRole).toString();
        act = [this, user, device] {
            m_server.disconnectDevice(user, device, this, [this](const auto &o) { report(o); });
        };
    } else {
        act = [this, user] { m_server.disconnectUser(user, this, [this](const auto &o) { report(o); }); };
    }
    confirmThen(this, tr("Disconnect?"),
                tr("%1? The clients are told 4000 and may reconnect; their tokens stay valid.").arg(what),
                tr("Disconnect"), act);
}

void SessionsView::revokeSelectedSession()
{
    const QModelIndex current = currentTreeIndex();
    const QString sessionId = current.data(SessionTreeModel::SessionIdRole).toString();
    if (sessionId.isEmpty())
        return;
    confirmThen(this, tr("Revoke session?"),
                tr("Revoke session %1 of %2 on %3? Its refresh tokens die, its access tokens are refused and "
                   "its connections close with 4003: the device must log in again.")
                    .arg(sessionId.left(8), UserKey::fromString(m_treeModel->user()).displayName(),
                         current.data(SessionTreeModel::DeviceRole).toString()),
                tr("Revoke"),
                [this, sessionId] { m_server.revokeSession(sessionId, this, [this](const auto &o) { report(o); }); });
}

void SessionsView::revokeSelectedUser()
{
    if (m_treeModel->user().isEmpty())
        return;
    const UserKey user = UserKey::fromString(m_treeModel->user());
    confirmThen(this, tr("Log out everywhere?"),
                tr("Revoke every session of %1 on every device (single logout)?").arg(user.displayName()),
                tr("Log out everywhere"),
                [this, user] { m_server.revokeUser(user, this, [this](const auto &o) { report(o); }); });
}

void SessionsView::revokeSelectedBefore()
{
    if (m_treeModel->user().isEmpty())
        return;
    const UserKey user = UserKey::fromString(m_treeModel->user());
    confirmThen(this, tr("Revoke tokens issued before now?"),
                tr("Refuse every token issued to %1 before this moment? Sessions that refresh afterwards carry on "
                   "with new tokens only if their refresh token was also issued later.")
                    .arg(user.displayName()),
                tr("Revoke"),
                [this, user] { m_server.revokeIssuedBefore(user, this, [this](const auto &o) { report(o); }); });
}

void SessionsView::broadcastMessage(const QString &key)
{
    const UserKey user = UserKey::fromString(key);
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(u"broadcastDialog"_s);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Broadcast"));
    dialog->setLabelText(user.isEmpty() ? tr("Message to every live connection:")
                                        : tr("Message to %1's live connections:").arg(user.displayName()));
    connect(dialog, &QInputDialog::textValueSelected, this, [this, user](const QString &text) {
        if (text.isEmpty())
            return;
        m_server.broadcast(user, QJsonObject { { "text"_L1, text } }, this, [this](const auto &o) { report(o); });
    });
    dialog->open();
}
