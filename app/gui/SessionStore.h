// Session files (.topiary, JSON): the model path, the recipe being edited,
// the storage format and every tried point. Autosaves a few seconds after
// each change (atomically, QSaveFile) to a recovery file that a clean exit
// deletes; if it is still there at the next start, the last session crashed
// and can be recovered.
//
// Weights changed by a training job are not in the model file: a session
// writes them beside itself as <session name>.weights.onnx (key 'weights',
// relative to the session's folder), on a worker thread and atomically, and
// only once per set of weights. The source model is never written.
#pragma once

#include <QFutureWatcher>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QTimer>
#include <memory>

#include "LoadedModel.h"

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
  // already the session's model (the caller opens it first, and applies the
  // session's weights before this, since new weights drop the tried points).
  static bool applyTo(const QJsonObject& session, ModelDocument& doc, QString* error);

  // Where a session at `sessionPath` keeps fine-tuned weights.
  static QString weightsPathFor(const QString& sessionPath);
  // The absolute path of the weights file a session read from `sessionPath`
  // names (key 'weights'), or empty when it has none.
  static QString weightsPathOf(const QJsonObject& session, const QString& sessionPath);
  // Loads a session's weights file for the already loaded `original` (call on
  // a worker): it must hold the same graph (nodes and their attributes,
  // inputs and outputs, initializer names, types and shapes, the values of
  // integer initializers); only the float weights are taken from it. The
  // result keeps original.path, so exports still start from and protect the
  // source file. Errors name the file and what is wrong.
  static topiary::Result<std::shared_ptr<const LoadedModel>> loadWeights(const QString& path,
                                                                         const LoadedModel& original);

  // Saves the session to `path`; `saved` or `saveFailed` follows (at once
  // unless fine-tuned weights must first be written, which runs on a worker).
  // False with `error` set when the save fails at once.
  bool save(const QString& path, QString* error);
  const QString& currentPath() const { return path_; }
  bool busy() const { return writing_; }

  // Autosave: `delayMs` after the last change the session goes to autosavePath().
  void setAutosaveDelay(int delayMs) { timer_.setInterval(delayMs); }
  QString autosavePath() const;
  void setAutosavePath(const QString& p) { autosave_ = p; }
  bool hasRecovery() const;
  // Deletes the recovery file and its weights; an autosave still being
  // written is dropped.
  void discardRecovery();
  // True when the autosave was written or has started (`autosaved` follows).
  bool autosaveNow();

 signals:
  void autosaved(const QString& path);
  void saved(const QString& path);
  void saveFailed(const QString& path, const QString& error);
  // An autosave could not be written (not a save the user asked for).
  void autosaveFailed(const QString& path, const QString& error);

 private:
  struct Write {
    QString path;
    bool autosave = false;
    quint64 discardGeneration = 0;
    QJsonObject json;
    std::shared_ptr<const LoadedModel> weights;  // to write first, or null
    QString weightsPath;
  };
  Write prepare(const QString& path, bool autosave) const;
  // Runs `w` now or after the write in progress.
  bool submit(Write w, QString* error);
  bool finish(const Write& w, QString* error);
  void failed(const Write& w, const QString& error);
  void startNext();

  ModelDocument* doc_;
  QTimer timer_;
  QString path_;
  QString autosave_;
  bool writing_ = false;
  QList<Write> queue_;
  Write current_;
  QFutureWatcher<QString> weightsWriter_;
  quint64 discardGeneration_ = 0;
  // The weights last written to each weights file (so an unchanged set is
  // not written again on every autosave).
  QHash<QString, std::weak_ptr<const LoadedModel>> written_;
};
