#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

/// Asks where a backup goes (or which one to restore) and its passphrase: twice for a new
/// backup, once to open one. The passphrase seals the signing keys in the file; a backup
/// cannot be restored without it, so the dialog says so.
class BackupDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackupDialog)

public:
    enum class Mode { Backup, Restore };

    /// `file` filled in (may be empty); Browse… starts in `folder` when it is.
    BackupDialog(Mode mode, const QString &file, const QString &folder, QWidget *parent = nullptr);

    QString file() const;
    QByteArray passphrase() const;

private:
    void browse();
    void validate();

    Mode m_mode = Mode::Backup;
    QString m_folder;
    QLineEdit *m_file = nullptr;
    QLineEdit *m_passphrase = nullptr;
    QLineEdit *m_repeat = nullptr;
    QLabel *m_problem = nullptr; ///< what keeps the dialog from being accepted
    QLabel *m_note = nullptr; ///< what to know before accepting (a file replaced, a short passphrase)
    QDialogButtonBox *m_buttons = nullptr;
};
