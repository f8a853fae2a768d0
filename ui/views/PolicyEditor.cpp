#include "views/PolicyEditor.h"

#include "models/Numerus.h"

#include "ServerFacade.h"
#include "views/Confirmation.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace {
QString humanDuration(qint64 seconds)
{
    QStringList parts;
    if (seconds >= 86400)
        parts.append(numerus(PolicyEditor::tr("%n day(s)", nullptr, int(seconds / 86400)), int(seconds / 86400)));
    if (seconds % 86400 >= 3600)
        parts.append(PolicyEditor::tr("%n h", nullptr, int((seconds % 86400) / 3600)));
    if (seconds % 3600 >= 60)
        parts.append(PolicyEditor::tr("%n min", nullptr, int((seconds % 3600) / 60)));
    if (seconds % 60 != 0 || parts.isEmpty())
        parts.append(PolicyEditor::tr("%n s", nullptr, int(seconds % 60)));
    return parts.join(u' ');
}
} // namespace

PolicyEditor::PolicyEditor(ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_findings(new QListWidget(this))
    , m_error(new QLabel(this))
    , m_apply(new QPushButton(tr("&Apply"), this))
    , m_revert(new QPushButton(tr("&Revert"), this))
{
    const struct {
        QString member;
        std::chrono::seconds SessionPolicy::*value;
        QString label;
        QString help;
    } members[] = {
        { u"access_token_ttl"_s, &SessionPolicy::accessTokenTtl, tr("Access token"),
          tr("How long an access token (JWT) is accepted; live connections are closed with 4001 at its expiry.") },
        { u"refresh_token_idle_ttl"_s, &SessionPolicy::refreshTokenIdleTtl, tr("Refresh token, unused"),
          tr("An unused refresh token dies after this long.") },
        { u"refresh_token_max_ttl"_s, &SessionPolicy::refreshTokenMaxTtl, tr("Session, absolute"),
          tr("No session lives longer than this, however often it refreshes.") },
        { u"session_idle_ttl"_s, &SessionPolicy::sessionIdleTtl, tr("Session, idle"),
          tr("A session with no refresh for this long ends.") },
        { u"session_cookie_ttl"_s, &SessionPolicy::sessionCookieTtl, tr("Browser session cookie"),
          tr("The short-lived cookie of the 2-Cookie Handoff: the local session.") },
        { u"id_token_ttl"_s, &SessionPolicy::idTokenTtl, tr("ID token"), tr("Lifetime of OIDC ID tokens.") },
        { u"sli_cookie_ttl"_s, &SessionPolicy::sliCookieTtl, tr("SLI cookie"),
          tr("Single login identification: how long silent re-authentication stays possible.") },
    };
    auto *form = new QFormLayout;
    for (const auto &member : members) {
        auto *spin = new QSpinBox(this);
        spin->setObjectName(member.member);
        spin->setRange(1, 366 * 86400);
        spin->setSuffix(tr(" s"));
        spin->setAccelerated(true);
        spin->setAccessibleName(member.label);
        spin->setToolTip(member.help);
        auto *human = new QLabel(this);
        human->setMinimumWidth(160);
        auto *row = new QHBoxLayout;
        row->addWidget(spin);
        row->addWidget(human, 1);
        form->addRow(member.label, row);
        m_fields.append({ member.member, member.value, spin, human });
        connect(spin, &QSpinBox::valueChanged, this, &PolicyEditor::review);
    }

    const QString fromNowOn = tr("Applies to handshakes from now on; open connections are not closed.");
    const QString atOnce = tr("Applies to every open connection at once.");
    const struct {
        QString name;
        qint64 ConnectionLimits::*value;
        QString label;
        int minimum;
        int maximum;
        qint64 scale;
        QString suffix;
        QString help;
    } limits[] = {
        { u"max_connections"_s,
          &ConnectionLimits::maximumConnections,
          tr("Connections in all"),
          1,
          1'000'000,
          1,
          {},
          fromNowOn },
        { u"max_connections_per_user"_s,
          &ConnectionLimits::maximumConnectionsPerUser,
          tr("Connections per user"),
          1,
          1'000'000,
          1,
          {},
          fromNowOn },
        { u"max_message_size"_s, &ConnectionLimits::maximumMessageSize, tr("Largest message"), 1, 16 * 1024, 1024,
          tr(" KiB"), fromNowOn },
        { u"handshake_timeout"_s, &ConnectionLimits::handshakeTimeoutSeconds, tr("Handshake timeout"), 1, 120, 1,
          tr(" s"), fromNowOn },
        { u"message_rate"_s, &ConnectionLimits::messageRatePerSecond, tr("Messages per second"), 1, 100'000, 1,
          tr(" /s"), tr("Per connection, pings included; past the burst it is closed with 1008. ") + fromNowOn },
        { u"message_burst"_s,
          &ConnectionLimits::messageBurst,
          tr("Message burst"),
          1,
          1'000'000,
          1,
          {},
          tr("Messages a connection may send at once before the rate applies. ") + fromNowOn },
        { u"ping_interval"_s, &ConnectionLimits::pingIntervalSeconds, tr("Ping after silence of"), 1, 3600, 1, tr(" s"),
          tr("A connection that sent nothing this long is pinged. ") + atOnce },
        { u"pong_timeout"_s, &ConnectionLimits::pongTimeoutSeconds, tr("Pong timeout"), 1, 600, 1, tr(" s"),
          tr("A pinged connection that answers nothing this long is closed with 4008: its peer is gone. ") + atOnce },
    };
    auto *limitsForm = new QFormLayout;
    limitsForm->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    for (const auto &limit : limits) {
        auto *spin = new QSpinBox(this);
        spin->setObjectName(limit.name);
        spin->setRange(limit.minimum, limit.maximum);
        spin->setSuffix(limit.suffix);
        spin->setAccessibleName(limit.label);
        spin->setToolTip(limit.help);
        limitsForm->addRow(limit.label, spin);
        m_limitFields.append({ limit.value, spin, limit.scale });
        connect(spin, &QSpinBox::valueChanged, this, &PolicyEditor::review);
    }
    form->addRow(new QLabel(tr("<b>Limits</b>"), this));
    form->addRow(limitsForm);

    m_findings->setObjectName(u"policyFindings"_s);
    m_findings->setAccessibleName(tr("Policy review"));
    m_findings->setWordWrap(true);
    m_error->setObjectName(u"policyError"_s);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(u"color: #c0392b"_s);
    m_apply->setObjectName(u"applyPolicyButton"_s);
    m_revert->setObjectName(u"revertPolicyButton"_s);
    auto *labSpeed = new QPushButton(tr("&Lab speed"), this);
    labSpeed->setObjectName(u"labSpeedButton"_s);
    labSpeed->setToolTip(tr("Lifetimes of seconds, so that expiry, refresh and revocation can be watched live"));
    auto *defaults = new QPushButton(tr("&Defaults"), this);
    defaults->setObjectName(u"defaultPolicyButton"_s);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(labSpeed);
    buttons->addWidget(defaults);
    buttons->addStretch();
    buttons->addWidget(m_revert);
    buttons->addWidget(m_apply);

    auto *layout = new QVBoxLayout(this);
    auto *intro
        = new QLabel(tr("Lifetimes apply to tokens and sessions issued from the moment they are applied."), this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_error);
    m_inspection = new QLabel(this);
    m_inspection->setObjectName(u"inspectPayloadsLabel"_s);
    m_inspection->setWordWrap(true);
    layout->addWidget(m_inspection);
    layout->addWidget(new QLabel(tr("Review"), this));
    layout->addWidget(m_findings, 1);
    layout->addLayout(buttons);

    connect(labSpeed, &QPushButton::clicked, this, [this] { fill(SessionPolicy::labSpeed()); });
    connect(defaults, &QPushButton::clicked, this, [this] { fill(SessionPolicy {}); });
    connect(m_revert, &QPushButton::clicked, this, [this] {
        showLimits(m_currentLimits);
        fill(m_current);
    });
    connect(m_apply, &QPushButton::clicked, this, &PolicyEditor::apply);
    connect(&server, &ServerFacade::policyChanged, this, &PolicyEditor::showPolicy);
    connect(&server, &ServerFacade::limitsChanged, this, &PolicyEditor::showLimits);
    const auto showInspection = [this](const ServerStatistics &statistics) {
        m_inspection->setText(
            statistics.inspectPayloads
                ? tr("<b>Message inspector:</b> payloads are shown. The server's configuration allows it "
                     "(inspect_payloads); every inspector opened is audited.")
                : tr("<b>Message inspector:</b> payloads are hidden; inspectors show each message's time, "
                     "direction, type and size. Set inspect_payloads in the server's configuration to show them."));
    };
    connect(&server, &ServerFacade::statisticsSampled, this, showInspection);
    connect(&server, &ServerFacade::snapshotReady, this, [this, showInspection](const ConsoleSnapshot &snapshot) {
        showLimits(snapshot.limits);
        showPolicy(snapshot.policy);
        showInspection(snapshot.statistics);
    });
    showLimits(ConnectionLimits {});
    showPolicy(SessionPolicy {});
}

SessionPolicy PolicyEditor::editedPolicy() const
{
    SessionPolicy policy;
    for (const auto &field : m_fields)
        policy.*field.value = std::chrono::seconds(field.spin->value());
    return policy;
}

ConnectionLimits PolicyEditor::editedLimits() const
{
    ConnectionLimits limits;
    for (const auto &field : m_limitFields)
        limits.*field.value = qint64(field.spin->value()) * field.scale;
    return limits;
}

void PolicyEditor::showLimits(const ConnectionLimits &limits)
{
    m_currentLimits = limits;
    for (const auto &field : std::as_const(m_limitFields)) {
        const QSignalBlocker blocker(field.spin);
        field.spin->setValue(int(limits.*field.value / field.scale));
    }
    review();
}

void PolicyEditor::showPolicy(const SessionPolicy &policy)
{
    m_current = policy;
    fill(policy);
}

void PolicyEditor::fill(const SessionPolicy &policy)
{
    for (const auto &field : std::as_const(m_fields)) {
        const QSignalBlocker blocker(field.spin);
        field.spin->setValue(int((policy.*field.value).count()));
    }
    review();
}

void PolicyEditor::review()
{
    const SessionPolicy edited = editedPolicy();
    for (const auto &field : std::as_const(m_fields))
        field.human->setText(humanDuration((edited.*field.value).count()));
    const auto checked = SessionPolicy::fromJson(edited.toJson(), m_current);
    m_error->setText(checked ? QString() : checked.error());
    m_error->setVisible(!checked);
    m_findings->clear();
    if (checked) {
        for (const auto &finding : checked->review()) {
            const bool problem = finding.severity == PolicyFinding::Severity::Problem;
            auto *item = new QListWidgetItem(
                style()->standardIcon(problem ? QStyle::SP_MessageBoxWarning : QStyle::SP_MessageBoxInformation),
                (problem ? tr("Problem: ") : tr("Advice: ")) + finding.text, m_findings);
            item->setData(Qt::UserRole, finding.member);
        }
        if (m_findings->count() == 0)
            new QListWidgetItem(style()->standardIcon(QStyle::SP_DialogApplyButton),
                                tr("These lifetimes fit together."), m_findings);
    }
    const auto limits = ConnectionLimits::fromJson(editedLimits().toJson(), m_currentLimits);
    if (checked && !limits) {
        m_error->setText(limits.error());
        m_error->setVisible(true);
    }
    const bool changed = !(edited == m_current) || !(editedLimits() == m_currentLimits);
    // Attached with an operator's or a viewer's token: the policy is shown, not changed.
    m_apply->setEnabled(m_server.mayAdminister() && checked && limits && changed);
    m_apply->setToolTip(m_server.mayAdminister() ? QString() : tr("changing the policy needs a full admin token"));
    m_revert->setEnabled(changed);
}

void PolicyEditor::apply()
{
    const auto checked = SessionPolicy::fromJson(editedPolicy().toJson(), m_current);
    if (!checked)
        return;
    int problems = 0;
    for (const auto &finding : checked->review())
        problems += finding.severity == PolicyFinding::Severity::Problem;
    if (problems == 0) {
        send(*checked);
        return;
    }
    confirmThen(
        this, tr("Apply a policy with problems?"),
        numerus(tr("The review found %n problem(s) with these lifetimes. Apply them anyway?", nullptr, problems),
                problems),
        tr("Apply anyway"), [this, policy = *checked] { send(policy); });
}

void PolicyEditor::send(const SessionPolicy &policy)
{
    if (const ConnectionLimits limits = editedLimits(); !(limits == m_currentLimits)) {
        m_server.setLimits(limits, this, [this](const QString &error) {
            if (!error.isEmpty()) {
                m_error->setText(tr("The server refused the limits: %1").arg(error));
                m_error->setVisible(true);
                return;
            }
            Q_EMIT outcome(tr("Limits applied: pings at once, the rest for handshakes from now on."));
        });
    }
    if (policy == m_current)
        return;
    m_server.setPolicy(policy, this, [this](const QString &error) {
        if (!error.isEmpty()) {
            m_error->setText(tr("The server refused the policy: %1").arg(error));
            m_error->setVisible(true);
            return;
        }
        Q_EMIT outcome(tr("Policy applied: it governs tokens issued from now on."));
    });
}
