#include "SessionStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>

#include "ModelDocument.h"

SessionStore::SessionStore(ModelDocument* doc, QObject* parent) : QObject(parent), doc_(doc) {
  timer_.setSingleShot(true);
  timer_.setInterval(3000);
  connect(&timer_, &QTimer::timeout, this, &SessionStore::autosaveNow);
  auto schedule = [this] {
    if (doc_->hasModel()) timer_.start();
  };
  connect(doc_, &ModelDocument::planChanged, this, schedule);
  connect(doc_, &ModelDocument::triedChanged, this, schedule);
}

QJsonObject SessionStore::toJson(const ModelDocument& doc) {
  QJsonObject s;
  s["format"] = "topiary-session";
  s["version"] = 1;
  s["model"] = doc.hasModel() ? QFileInfo(doc.model()->path).absoluteFilePath() : QString();
  s["recipe"] = doc.plan().toRecipe();
  s["storage"] = doc.plan().global().storage;
  s["weights_fine_tuned"] = doc.weightsModified();
  QJsonArray tried;
  for (const TriedPoint& p : doc.tried())
    tried.append(QJsonObject{{"recipe", p.plan.toRecipe()},
                             {"storage", p.plan.global().storage},
                             {"accuracy", p.accuracy},
                             {"size_bytes", double(p.storageBytes)},
                             {"latency_ms", p.latencyMs}});
  s["tried"] = tried;
  return s;
}

bool SessionStore::writeJson(const QJsonObject& session, const QString& path, QString* error) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QSaveFile f(path);  // temp file + rename: a crash never leaves half a session
  if (!f.open(QIODevice::WriteOnly)) {
    if (error) *error = QString("cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  f.write(QJsonDocument(session).toJson(QJsonDocument::Indented));
  if (!f.commit()) {
    if (error) *error = QString("cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}

bool SessionStore::readJson(const QString& path, QJsonObject& session, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = QString("cannot read %1: %2").arg(path, f.errorString());
    return false;
  }
  QJsonParseError pe;
  QJsonDocument d = QJsonDocument::fromJson(f.read(16 << 20), &pe);
  if (!d.isObject() || d.object()["format"].toString() != "topiary-session") {
    if (error)
      *error = pe.error != QJsonParseError::NoError ? QString("%1: %2 at offset %3").arg(path, pe.errorString()).arg(pe.offset)
                                                    : QString("%1 is not a Topiary session (key 'format')").arg(path);
    return false;
  }
  session = d.object();
  return true;
}

bool SessionStore::applyTo(const QJsonObject& session, ModelDocument& doc, QString* error) {
  PrunePlan plan;
  if (!PrunePlan::fromRecipe(session["recipe"].toObject(), plan, error)) return false;
  GlobalPlan g = plan.global();
  g.storage = session["storage"].toString(g.storage);
  plan.setGlobal(g);
  QVector<TriedPoint> tried;
  for (const QJsonValue& v : session["tried"].toArray()) {
    const QJsonObject o = v.toObject();
    TriedPoint p;
    if (!PrunePlan::fromRecipe(o["recipe"].toObject(), p.plan, error)) return false;
    GlobalPlan pg = p.plan.global();
    pg.storage = o["storage"].toString(pg.storage);
    p.plan.setGlobal(pg);
    p.accuracy = o["accuracy"].toDouble();
    p.storageBytes = qint64(o["size_bytes"].toDouble());
    p.latencyMs = o["latency_ms"].toDouble();
    tried.push_back(p);
  }
  doc.applyPlan(plan);
  doc.setTried(tried);
  return true;
}

bool SessionStore::save(const QString& path, QString* error) {
  if (!writeJson(toJson(*doc_), path, error)) return false;
  path_ = path;
  return true;
}

QString SessionStore::autosavePath() const {
  if (!autosave_.isEmpty()) return autosave_;
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.topiary";
}

bool SessionStore::hasRecovery() const { return QFileInfo::exists(autosavePath()); }

void SessionStore::discardRecovery() {
  timer_.stop();
  QFile::remove(autosavePath());
}

bool SessionStore::autosaveNow() {
  if (!doc_->hasModel()) return false;
  QString err;
  if (!writeJson(toJson(*doc_), autosavePath(), &err)) return false;
  emit autosaved(autosavePath());
  return true;
}
