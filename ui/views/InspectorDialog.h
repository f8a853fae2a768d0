#pragma once

#include "ConnectionInfo.h"
#include "InspectedMessage.h"

#include <QDialog>

class InspectorModel;
class QLabel;
class QPlainTextEdit;
class QTableView;
class ServerFacade;

/// A live message inspector on one connection: its messages in and out as they pass (time,
/// direction, type, size, and the payload where the server allows it). Opening it opens an
/// inspection on the server, closing it closes that (both audited). Not modal: several may be
/// open, one a connection.
class InspectorDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorDialog)

public:
    /// `payloads`: whether the server shows them (ServerStatistics::inspectPayloads), until the
    /// first batch says.
    InspectorDialog(ServerFacade &server, const ConnectionInfo &connection, bool payloads, QWidget *parent = nullptr);
    ~InspectorDialog() override;

    quint64 connectionId() const { return m_connectionId; }
    InspectorModel *model() const { return m_model; }
    /// "Inspecting…", "12 messages", "The connection closed (4003)", or why it could not open.
    QString status() const;
    bool isInspecting() const { return m_inspecting; }

private:
    void handleBatch(const InspectionBatch &batch);
    void showPayloadPolicy(bool payloads);
    void updateStatus();
    void showSelected();

    ServerFacade &m_server;
    quint64 m_connectionId;
    InspectorModel *m_model;
    QTableView *m_table;
    QPlainTextEdit *m_payload;
    QLabel *m_policy;
    QLabel *m_status;
    bool m_inspecting = false;
    bool m_follow = true;
    qint64 m_seen = 0;
    qint64 m_dropped = 0;
    QString m_ended; ///< why it ended, once it has
};
