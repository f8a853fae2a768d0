#pragma once

#include <QHash>
#include <QMetaType>
#include <QString>
#include <QStringList>

/// The server's counters and gauges at one moment, sampled once a second for the console's
/// activity charts. Counters are totals since start; a view takes differences for rates.
struct ServerStatistics {
    qint64 sampledAtMs = 0;
    qint64 startedAtMs = 0;
    QStringList listenAddresses; ///< "127.0.0.1:8080"
    bool tls = false;
    /// The certificate served, when tls: what an operator checks and a lab trusts.
    QString tlsSubject;
    QStringList tlsNames; ///< its subjectAltName entries, names and addresses
    QString tlsFingerprint; ///< SHA-256 of the certificate, "AB:CD:…"
    qint64 tlsNotAfterMs = 0;
    QString tlsProblem; ///< why the last reload was refused (the old certificate serves on)
    bool tlsReloadable = false; ///< from files, which a reload reads again (not self-signed)
    qint64 connections = 0;
    qint64 activeSessions = 0;
    quint64 handshakesAccepted = 0;
    QHash<QString, quint64> handshakesRefused; ///< by reason ("invalid_token", "origin_not_allowed", …)
    quint64 loginsSucceeded = 0;
    quint64 loginsFailed = 0;
    quint64 refreshes = 0;
    quint64 refreshTokenReuses = 0;
    quint64 revocations = 0;
    qint64 maximumConnections = 0;
    qint64 maximumConnectionsPerUser = 0;
    qint64 maximumMessageSize = 0;
    qint64 handshakeTimeoutMs = 0;
    int ioThreads = 0;
    bool inspectPayloads = false; ///< inspect_payloads: the inspectors show what messages say
};
Q_DECLARE_METATYPE(ServerStatistics)
