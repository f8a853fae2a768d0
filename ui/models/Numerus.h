#pragma once

#include <QString>

/// English plurals where no translation catalogue is installed: tr("%n connection(s)", nullptr,
/// n) comes back with "(s)" untouched, and this resolves it for `count`. With a catalogue
/// installed the translated text has no "(s)" and passes through.
inline QString numerus(QString text, qint64 count)
{
    return text.replace(QLatin1StringView("(s)"), count == 1 ? QString() : QStringLiteral("s"));
}
