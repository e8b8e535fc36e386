// Session files (.topiary, JSON): the model path, the recipe being edited,
// the storage format and every tried point. Autosaves a few seconds after
// each change (atomically, QSaveFile) to a recovery file that a clean exit
// deletes; if it is still there at the next start, the last session crashed
// and can be recovered.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QTimer>

class ModelDocument;

class SessionStore : public QObject {
  Q_OBJECT
 public:
  explicit SessionStore(ModelDocument* doc, QObject* parent = nullptr);

  static QJsonObject toJson(const ModelDocument& doc);
  // Writes atomically; false with `error` set on failure.
  static bool writeJson(const QJsonObject& session, const QString& path, QString* error);
  static bool readJson(const QString& path, QJsonObject& session, QString* error);
  // Applies a session's plan and tried points to a document whose model is
  // already the session's model (the caller opens it first).
  static bool applyTo(const QJsonObject& session, ModelDocument& doc, QString* error);

  bool save(const QString& path, QString* error);
  const QString& currentPath() const { return path_; }

  // Autosave: `delayMs` after the last change the session goes to autosavePath().
  void setAutosaveDelay(int delayMs) { timer_.setInterval(delayMs); }
  QString autosavePath() const;
  void setAutosavePath(const QString& p) { autosave_ = p; }
  bool hasRecovery() const;
  void discardRecovery();
  bool autosaveNow();

 signals:
  void autosaved(const QString& path);

 private:
  ModelDocument* doc_;
  QTimer timer_;
  QString path_;
  QString autosave_;
};
