#pragma once

#include <QHash>
#include <QList>
#include <QMetaType>
#include <QString>

#include <utility>

/// Refusals of one kind from one address, counted over an interval.
struct RefusalCount {
    QString reason; ///< stable code: "token_missing", "bad_signature", "body_too_large", …
    QString address;
    quint64 count = 0;
};

/// Counts refused requests by reason and address between two flushes, so that a storm of
/// refusals costs a hash increment each, and the control thread (metrics, audit) hears of
/// them in batches. Pure; one per I/O thread.
class RefusalTally final {
public:
    /// Addresses kept per flush; the rest are counted together under an empty address.
    static constexpr qsizetype maximumAddresses = 256;

    void count(const QString &reason, const QString &address);
    bool isEmpty() const { return m_counts.isEmpty(); }
    /// The counts since the last take, and a fresh start.
    QList<RefusalCount> take();

private:
    QHash<std::pair<QString, QString>, quint64> m_counts;
};

Q_DECLARE_METATYPE(RefusalCount)
