#include "RecentFiles.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QMenu>
#include <QSet>
#include <QSettings>
#include <algorithm>

namespace {
const char* kKey = "recentFiles";
const int kMax = 8;

// The last `depth` folders of `file`'s path ("exp-a", "b/exp" for depth 2).
QString trailingFolders(const QString& file, int depth) {
  const QStringList parts = QFileInfo(file).absolutePath().split('/', Qt::SkipEmptyParts);
  return parts.mid(std::max<qsizetype>(0, parts.size() - depth)).join('/');
}

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
  // Two files of the same name (model.onnx of two experiments) are told
  // apart by their folder, or by as many of the last folders as it takes
  // (a/exp/model.onnx and b/exp/model.onnx).
  QHash<QString, QStringList> byName;
  for (const QString& f : present) byName[QFileInfo(f).fileName()] << f;
  QHash<QString, QString> folderShown;
  for (const QStringList& same : std::as_const(byName)) {
    if (same.size() < 2) continue;
    for (int depth = 1; depth < 64; ++depth) {
      QSet<QString> seen;
      for (const QString& f : same) seen.insert(trailingFolders(f, depth));
      if (seen.size() == same.size() || depth == 63) {
        for (const QString& f : same) folderShown[f] = trailingFolders(f, depth);
        break;
      }
    }
  }
  int i = 1;
  for (const QString& f : present) {
    QString label = QFileInfo(f).fileName();
    if (folderShown.contains(f)) label += QString("  (%1)").arg(folderShown[f]);
    // '&' marks a menu's shortcut letter: "R&D.onnx" would show as "RD.onnx".
    label.replace('&', "&&");
    QAction* a = menu->addAction(QString("&%1 %2").arg(i++).arg(label));
    a->setToolTip(f);
    connect(a, &QAction::triggered, this, [this, f] { emit openRequested(f); });
  }
  if (menu->isEmpty()) menu->addAction(tr("(none)"))->setEnabled(false);
  menu->addSeparator();
  connect(menu->addAction(tr("Clear list")), &QAction::triggered, this, [this] { clear(); });
}
