#include "http/HttpHandoff.h"

#include <QTcpSocket>

#include <mutex>

#include <unistd.h>

using namespace Qt::StringLiterals;

HttpHandoff::HttpHandoff(QObject *parent)
    : QTcpServer(parent)
{
    // The hand-off never listens, by design, and Qt says so: once when the HTTP server binds
    // to it and at every nextPendingConnection(). Exactly those two messages are dropped.
    static std::once_flag installed;
    std::call_once(installed, [] {
        static const QtMessageHandler previous
            = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &context, const QString &message) {
                  const bool expected = message.contains(u"nextPendingConnection() called while not listening"_s)
                      || (message.contains(u"is not listening"_s) && message.contains(u"TCP server"_s));
                  if (!expected && previous)
                      previous(type, context, message);
              });
    });
}

void HttpHandoff::adopt(qintptr socket)
{
    const bool posted = QMetaObject::invokeMethod(
        this,
        [this, socket] {
            // Parented, so that connections still open when the server stops go with it.
            auto *adopted = new QTcpSocket(this);
            if (!adopted->setSocketDescriptor(socket)) {
                delete adopted;
                ::close(static_cast<int>(socket));
                return;
            }
            addPendingConnection(adopted);
        },
        Qt::QueuedConnection);
    if (!posted)
        ::close(static_cast<int>(socket));
}
