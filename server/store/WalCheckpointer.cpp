#include "store/WalCheckpointer.h"

#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

#include <pthread.h>

using namespace Qt::StringLiterals;

Q_DECLARE_LOGGING_CATEGORY(lcStore)

WalCheckpointer::WalCheckpointer(QString databasePath, std::chrono::milliseconds interval)
    : m_path(std::move(databasePath))
    , m_interval(interval)
    , m_thread([this] { run(); })
{
}

WalCheckpointer::~WalCheckpointer()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

WalCheckpointer::Progress WalCheckpointer::progress() const
{
    const std::lock_guard lock(m_mutex);
    return m_progress;
}

void WalCheckpointer::run()
{
    pthread_setname_np(pthread_self(), "gatehouse-wal");
    const QString name = u"gatehouse-wal-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        auto db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(m_path);
        // Never waits: a PASSIVE checkpoint does what it can without taking any lock that a
        // writer holds, and the next tick does the rest.
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=0"_s);
        if (!db.open()) {
            qCWarning(lcStore).noquote() << "cannot open" << m_path << "for checkpoints:" << db.lastError().text();
            m_failures.fetch_add(1, std::memory_order_relaxed);
        }
        bool failing = false;
        std::unique_lock lock(m_mutex);
        while (db.isOpen() && !m_wake.wait_for(lock, m_interval, [this] { return m_stopping; })) {
            lock.unlock();
            QSqlQuery checkpoint(db);
            // One row: whether it was blocked, frames in the log, frames copied back.
            const bool done = checkpoint.exec(u"PRAGMA wal_checkpoint(PASSIVE)"_s) && checkpoint.next();
            if (!done) {
                m_failures.fetch_add(1, std::memory_order_relaxed);
                if (!std::exchange(failing, true))
                    qCWarning(lcStore).noquote() << "checkpoint failed:" << checkpoint.lastError().text();
            }
            lock.lock();
            if (done) {
                failing = false;
                ++m_progress.checkpoints;
                m_progress.logFrames = checkpoint.value(1).toLongLong();
                m_progress.copiedFrames = checkpoint.value(2).toLongLong();
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}
