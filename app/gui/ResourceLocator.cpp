#include "ResourceLocator.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

QStringList ResourceLocator::searchRoots() {
  QStringList roots;
  if (QCoreApplication::instance()) {
    const QString exe = QCoreApplication::applicationDirPath();
    // build/app/gui/topiary -> build/.. ; prefix/bin/topiary -> prefix/share/topiary
    for (const char* up : {"/..", "/../..", "/../../..", "/../share/topiary"}) roots << QDir::cleanPath(exe + up);
  }
  roots << QDir::currentPath();
#ifdef TOPIARY_GUI_SOURCE_DIR
  roots << QStringLiteral(TOPIARY_GUI_SOURCE_DIR);
#endif
  roots.removeDuplicates();
  return roots;
}

QString ResourceLocator::find(const QString& relative) {
  for (const QString& root : searchRoots()) {
    QFileInfo fi(root + "/resources/" + relative);
    if (fi.exists()) return fi.canonicalFilePath();
  }
  return {};
}
