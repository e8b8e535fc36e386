#include "RecentFiles.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QMenu>
#include <QSettings>

namespace {
const char* kKey = "recentFiles";
const int kMax = 8;
}  // namespace

RecentFiles::RecentFiles(QObject* parent) : QObject(parent) {}

QStringList RecentFiles::files() const { return QSettings().value(kKey).toStringList(); }

void RecentFiles::add(const QString& path) {
  QString abs = QFileInfo(path).absoluteFilePath();
  QStringList f = files();
  f.removeAll(abs);
  f.prepend(abs);
  while (f.size() > kMax) f.removeLast();
  QSettings().setValue(kKey, f);
}

void RecentFiles::clear() { QSettings().remove(kKey); }

void RecentFiles::fillMenu(QMenu* menu) {
  menu->clear();
  QStringList present;
  for (const QString& f : files())
    if (QFileInfo::exists(f)) present << f;
  // Two files of the same name (model.onnx of two experiments) are told apart by their folder.
  QHash<QString, int> nameCount;
  for (const QString& f : present) ++nameCount[QFileInfo(f).fileName()];
  int i = 1;
  for (const QString& f : present) {
    const QFileInfo fi(f);
    QString label = fi.fileName();
    if (nameCount.value(label) > 1) label += QString("  (%1)").arg(fi.dir().dirName());
    QAction* a = menu->addAction(QString("&%1 %2").arg(i++).arg(label));
    a->setToolTip(f);
    connect(a, &QAction::triggered, this, [this, f] { emit openRequested(f); });
  }
  if (menu->isEmpty()) menu->addAction(tr("(none)"))->setEnabled(false);
  menu->addSeparator();
  connect(menu->addAction(tr("Clear list")), &QAction::triggered, this, [this] { clear(); });
}
