#include "views/BackupDialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

using namespace Qt::StringLiterals;

namespace {
const auto backupFilter = QT_TRANSLATE_NOOP("BackupDialog", "Gatehouse backups (*.gatehouse-backup);;All files (*)");
}

namespace {
/// Below this, a passphrase is said to be short (not refused: the admin decides).
constexpr int shortPassphrase = 12;
} // namespace

BackupDialog::BackupDialog(Mode mode, const QString &file, const QString &folder, QWidget *parent)
    : QDialog(parent)
    , m_mode(mode)
    , m_folder(folder)
    , m_file(new QLineEdit(file, this))
    , m_passphrase(new QLineEdit(this))
    , m_repeat(new QLineEdit(this))
    , m_problem(new QLabel(this))
    , m_note(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel, this))
{
    setObjectName(u"backupDialog"_s);
    setWindowTitle(mode == Mode::Backup ? tr("Back up the server") : tr("Restore from a backup"));
    m_file->setObjectName(u"backupFileEdit"_s);
    m_passphrase->setObjectName(u"backupPassphraseEdit"_s);
    m_repeat->setObjectName(u"backupRepeatEdit"_s);
    for (auto *edit : { m_passphrase, m_repeat })
        edit->setEchoMode(QLineEdit::Password);
    m_problem->setObjectName(u"backupProblemLabel"_s);
    m_problem->setStyleSheet(u"color: #c0392b"_s);
    m_note->setObjectName(u"backupNoteLabel"_s);
    m_note->setWordWrap(true);
    auto *accept
        = m_buttons->addButton(mode == Mode::Backup ? tr("Back up") : tr("Open backup…"), QDialogButtonBox::AcceptRole);
    accept->setObjectName(u"backupAcceptButton"_s);
    accept->setDefault(true);

    auto *explanation
        = new QLabel(mode == Mode::Backup
                         ? tr("The backup holds the database (users, sessions, audit log) and the keys that sign and "
                              "verify tokens, sealed with this passphrase. Without the passphrase it cannot be "
                              "restored: keep the two apart. The server goes on serving while it is made.")
                         : tr("The backup's passphrase opens it; nothing is replaced until you have seen when it was "
                              "made and confirmed."),
                     this);
    explanation->setWordWrap(true);

    auto *browse = new QPushButton(tr("Browse…"), this);
    browse->setObjectName(u"backupBrowseButton"_s);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);

    auto *form = new QFormLayout(this);
    form->addRow(explanation);
    form->addRow(tr("File"), fileRow);
    form->addRow(tr("Passphrase"), m_passphrase);
    if (mode == Mode::Backup)
        form->addRow(tr("Repeat passphrase"), m_repeat);
    else
        m_repeat->hide();
    form->addRow(m_problem);
    form->addRow(m_note);
    form->addRow(m_buttons);
    setMinimumWidth(520);

    connect(browse, &QPushButton::clicked, this, &BackupDialog::browse);
    for (auto *edit : { m_file, m_passphrase, m_repeat })
        connect(edit, &QLineEdit::textChanged, this, &BackupDialog::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    validate();
}

QString BackupDialog::file() const
{
    return m_file->text().trimmed();
}

QByteArray BackupDialog::passphrase() const
{
    return m_passphrase->text().toUtf8();
}

void BackupDialog::browse()
{
    auto *dialog = new QFileDialog(this, windowTitle(), file().isEmpty() ? m_folder : file(), tr(backupFilter));
    dialog->setObjectName(u"backupFileDialog"_s);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (m_mode == Mode::Backup) {
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        dialog->setDefaultSuffix(u"gatehouse-backup"_s);
    } else {
        dialog->setFileMode(QFileDialog::ExistingFile);
    }
    connect(dialog, &QFileDialog::fileSelected, m_file, &QLineEdit::setText);
    dialog->open();
}

void BackupDialog::validate()
{
    QString problem;
    QString note;
    const QFileInfo target(file());
    const QFileInfo folder(target.absolutePath());
    if (file().isEmpty())
        problem = tr("Choose a file.");
    else if (target.isDir())
        problem = tr("%1 is a folder: name a file.").arg(file());
    else if (target.isSymLink())
        problem = tr("%1 is a symbolic link: name the file itself.").arg(file());
    else if (m_mode == Mode::Backup && !folder.isDir())
        problem = tr("The folder %1 does not exist.").arg(folder.filePath());
    else if (m_mode == Mode::Backup && !folder.isWritable())
        problem = tr("You cannot write in %1.").arg(folder.filePath());
    else if (m_mode == Mode::Restore && !target.exists())
        problem = tr("There is no file %1.").arg(file());
    else if (m_mode == Mode::Restore && !target.isFile())
        problem = tr("%1 is not a regular file.").arg(file());
    else if (m_passphrase->text().isEmpty())
        problem = tr("Enter the passphrase.");
    else if (m_mode == Mode::Backup && m_passphrase->text() != m_repeat->text())
        problem = tr("The passphrases differ.");
    if (problem.isEmpty() && m_mode == Mode::Backup) {
        if (target.exists())
            note = tr("%1 exists: the backup replaces it.").arg(target.fileName());
        if (m_passphrase->text().size() < shortPassphrase)
            note += (note.isEmpty() ? QString() : u" "_s)
                + tr("A passphrase under %1 characters is easier to guess for whoever gets the file.")
                      .arg(shortPassphrase);
    }
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    m_note->setText(note);
    m_note->setVisible(!note.isEmpty());
    for (auto *button : m_buttons->buttons()) {
        if (m_buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
            button->setEnabled(problem.isEmpty());
    }
}
