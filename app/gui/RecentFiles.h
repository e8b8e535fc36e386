// The "Open Recent" list, kept in QSettings (most recent first, at most 8).
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

class RecentFiles : public QObject {
  Q_OBJECT
 public:
  explicit RecentFiles(QObject* parent = nullptr);
  QStringList files() const;
  void add(const QString& path);
  void clear();
  // Refills `menu` with one action per existing file.
  void fillMenu(QMenu* menu);

 signals:
  void openRequested(const QString& path);
};
