#pragma once

#include <QMetaType>

enum class ServerState {
    Stopped,
    Starting,
    Running,
    Failed,
};
Q_DECLARE_METATYPE(ServerState)
