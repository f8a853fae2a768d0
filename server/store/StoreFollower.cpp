#include "store/StoreFollower.h"

#include "store/Database.h"

#include <QLoggingCategory>
#include <QSqlQuery>

#include <pthread.h>

using namespace Qt::StringLiterals;

Q_DECLARE_LOGGING_CATEGORY(lcStore)

StoreFollower::StoreFollower(QString databasePath, std::chrono::milliseconds interval, Changed changed)
    : m_path(std::move(databasePath))
    , m_interval(interval)
    , m_changed(std::move(changed))
    , m_thread([this] { run(); })
{
}

StoreFollower::~StoreFollower()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void StoreFollower::run()
{
    pthread_setname_np(pthread_self(), "gatehouse-follow");
    Database database;
    // Opened once the server has migrated the store: this is a reader's second connection.
    if (!database.open(m_path, Database::Checkpoints::Elsewhere)) {
        qCWarning(lcStore).noquote() << "cannot follow the store:" << database.errorString();
        return;
    }
    qint64 seen = -1;
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, m_interval, [this] { return m_stopping; })) {
        lock.unlock();
        QSqlQuery query(database.connection());
        if (query.exec(u"PRAGMA data_version"_s) && query.next()) {
            const qint64 version = query.value(0).toLongLong();
            query.finish();
            if (std::exchange(seen, version) != version)
                m_changed(database);
        }
        lock.lock();
    }
}
