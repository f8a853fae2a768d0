#pragma once

#include <QHash>
#include <QString>

#include <mutex>
#include <optional>

/// Counts the sockets of the port that are not WebSockets (heads still arriving, HTTP
/// requests under way, kept-alive connections waiting for the next one), in all and per
/// client (an IPv4 address, an IPv6 /64), so that strangers cannot take every descriptor. Thread-safe; every I/O
/// thread's gate shares it.
class HttpCensus final {
public:
    HttpCensus(qsizetype maximum, qsizetype maximumPerAddress);
    Q_DISABLE_COPY_MOVE(HttpCensus)

    enum class Refusal { Full, AddressFull };
    /// Takes a place for a socket from `address`, or says why not. A trusted proxy's sockets
    /// (`perAddressLimit` false) carry many clients: only the total limits them.
    std::optional<Refusal> admit(const QString &address, bool perAddressLimit = true);
    void release(const QString &address);
    qsizetype count() const;

private:
    mutable std::mutex m_mutex;
    const qsizetype m_maximum;
    const qsizetype m_maximumPerAddress;
    qsizetype m_count = 0;
    QHash<QString, qsizetype> m_perAddress;
};
