#pragma once

#include "AuditFilter.h"

#include <QWidget>

class AuditFilterProxy;
class AuditLogModel;
class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTableView;
class ServerFacade;

/// The audit log's live tail with filters (type, user, actor, time range), the selected
/// event's detail, a server-side search beyond the tail, export to CSV or JSON lines, and the
/// hash chain's verification.
class AuditView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditView)

public:
    explicit AuditView(ServerFacade &server, QWidget *parent = nullptr);

    AuditLogModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    AuditFilter filter() const;
    void verify();
    /// Exports what the filter selects to `path` (CSV when it ends in .csv).
    void exportTo(const QString &path);
    void searchServer();

Q_SIGNALS:
    void outcome(const QString &message);

private:
    void applyFilter();
    void showDetail();

    ServerFacade &m_server;
    AuditLogModel *m_model = nullptr;
    AuditFilterProxy *m_proxy = nullptr;
    QComboBox *m_type = nullptr;
    QLineEdit *m_user = nullptr;
    QLineEdit *m_actor = nullptr;
    QCheckBox *m_useSince = nullptr;
    QDateTimeEdit *m_since = nullptr;
    QCheckBox *m_useUntil = nullptr;
    QDateTimeEdit *m_until = nullptr;
    QTableView *m_table = nullptr;
    QPlainTextEdit *m_detail = nullptr;
    QLabel *m_chain = nullptr;
};
