#include "views/Confirmation.h"

#include <QMessageBox>
#include <QPushButton>

using namespace Qt::StringLiterals;

void confirmThen(QWidget *parent, const QString &title, const QString &text, const QString &acceptText,
                 std::function<void()> onAccept)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::NoButton, parent);
    box->setObjectName(u"confirmDialog"_s);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    auto *accept = box->addButton(acceptText, QMessageBox::AcceptRole);
    accept->setObjectName(u"confirmButton"_s);
    box->addButton(QMessageBox::Cancel);
    box->setDefaultButton(QMessageBox::Cancel); // Enter alone never destroys anything
    QObject::connect(box, &QMessageBox::buttonClicked, box,
                     [box, accept, onAccept = std::move(onAccept)](auto *button) {
                         if (button == accept && onAccept)
                             onAccept();
                         Q_UNUSED(box);
                     });
    box->open();
}
