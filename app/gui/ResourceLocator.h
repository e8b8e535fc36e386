// Finds bundled resources (demo models, recipes) whether the program runs
// from a build tree, an install prefix or the source tree.
#pragma once

#include <QString>
#include <QStringList>

class ResourceLocator {
 public:
  // Folders searched for `resources/`, most specific first.
  static QStringList searchRoots();
  // Absolute path of resources/<relative>, or an empty string when missing.
  static QString find(const QString& relative);
  static QString demoModel() { return find("models/lenet5.onnx"); }
};
