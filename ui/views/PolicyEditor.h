#pragma once

#include "ConnectionLimits.h"
#include "SessionPolicy.h"

#include <QWidget>

#include <chrono>

class QDialogButtonBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;
class ServerFacade;

/// Edits token and session lifetimes and the consistency review that explains, in words,
/// which combinations break a flow. Apply sends the policy through the facade (audited); a
/// policy with problems is applied only after a confirmation.
class PolicyEditor final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PolicyEditor)

public:
    explicit PolicyEditor(ServerFacade &server, QWidget *parent = nullptr);

    /// What the fields hold now (unchecked).
    SessionPolicy editedPolicy() const;
    /// Shows `policy` as the server's current one.
    void showPolicy(const SessionPolicy &policy);
    ConnectionLimits editedLimits() const;
    /// Shows `limits` as the server's current ones.
    void showLimits(const ConnectionLimits &limits);
    void apply();

Q_SIGNALS:
    void outcome(const QString &message);

private:
    struct Field {
        QString member;
        std::chrono::seconds SessionPolicy::*value;
        QSpinBox *spin;
        QLabel *human;
    };

    void fill(const SessionPolicy &policy);
    void review();
    void send(const SessionPolicy &policy);

    ServerFacade &m_server;
    struct LimitField {
        qint64 ConnectionLimits::*value;
        QSpinBox *spin;
        qint64 scale; ///< the spin box counts in units of this (KiB for the message size)
    };

    SessionPolicy m_current;
    ConnectionLimits m_currentLimits;
    QList<LimitField> m_limitFields;
    QList<Field> m_fields;
    QListWidget *m_findings = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_inspection = nullptr; ///< what the message inspectors show (inspect_payloads)
    QPushButton *m_apply = nullptr;
    QPushButton *m_revert = nullptr;
};
