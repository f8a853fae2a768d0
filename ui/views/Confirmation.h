#pragma once

#include <QString>

#include <functional>

class QWidget;

/// Asks before a destructive action, without a nested event loop: a window-modal box (object
/// name "confirmDialog", its accepting button "confirmButton") runs `onAccept` when accepted.
void confirmThen(QWidget *parent, const QString &title, const QString &text, const QString &acceptText,
                 std::function<void()> onAccept);
