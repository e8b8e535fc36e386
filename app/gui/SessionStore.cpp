#include "SessionStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>
#include <QtConcurrent>
#include <cstring>

#include "ModelDocument.h"
#include "topiary/onnx_io.h"

SessionStore::SessionStore(ModelDocument* doc, QObject* parent) : QObject(parent), doc_(doc) {
  timer_.setSingleShot(true);
  timer_.setInterval(3000);
  connect(&timer_, &QTimer::timeout, this, &SessionStore::autosaveNow);
  auto schedule = [this] {
    if (doc_->hasModel()) timer_.start();
  };
  connect(doc_, &ModelDocument::planChanged, this, schedule);
  connect(doc_, &ModelDocument::triedChanged, this, schedule);
  connect(&weightsWriter_, &QFutureWatcher<QString>::finished, this, [this] {
    const Write w = current_;
    const QString err = weightsWriter_.result();
    current_ = Write();
    writing_ = false;
    if (w.autosave && w.discardGeneration != discardGeneration_) {
      QFile::remove(w.weightsPath);  // the recovery was discarded while its weights were written
    } else if (!err.isEmpty()) {
      failed(w, tr("cannot write the fine-tuned weights: %1").arg(err));
    } else {
      written_[w.weightsPath] = w.weights;
      finish(w, nullptr);
    }
    startNext();
  });
}

QJsonObject SessionStore::toJson(const ModelDocument& doc) {
  QJsonObject s;
  s["format"] = "topiary-session";
  s["version"] = 2;
  s["model"] = doc.hasModel() ? QFileInfo(doc.model()->path).absoluteFilePath() : QString();
  s["recipe"] = doc.plan().toRecipe();
  s["held_sparsity"] = doc.plan().heldSparsities();
  s["storage"] = doc.plan().global().storage;
  s["weights_fine_tuned"] = doc.weightsModified();
  QJsonArray tried;
  for (const TriedPoint& p : doc.tried())
    tried.append(QJsonObject{{"recipe", p.plan.toRecipe()},
                             {"held_sparsity", p.plan.heldSparsities()},
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

namespace {

// A plan as a session stores it: the recipe plus the sparsities it does not carry.
bool readPlan(const QJsonObject& o, PrunePlan& plan, QString* error) {
  if (!PrunePlan::fromRecipe(o["recipe"].toObject(), plan, error)) return false;
  if (!plan.restoreHeldSparsities(o["held_sparsity"].toObject(), error)) return false;
  GlobalPlan g = plan.global();
  g.storage = o["storage"].toString(g.storage);
  plan.setGlobal(g);
  return true;
}

}  // namespace

bool SessionStore::applyTo(const QJsonObject& session, ModelDocument& doc, QString* error) {
  PrunePlan plan;
  if (!readPlan(session, plan, error)) return false;
  QVector<TriedPoint> tried;
  for (const QJsonValue& v : session["tried"].toArray()) {
    const QJsonObject o = v.toObject();
    TriedPoint p;
    if (!readPlan(o, p.plan, error)) return false;
    p.accuracy = o["accuracy"].toDouble();
    p.storageBytes = qint64(o["size_bytes"].toDouble());
    p.latencyMs = o["latency_ms"].toDouble(-1);  // absent: not measured (0 would be drawn as a real latency)
    tried.push_back(p);
  }
  doc.applyPlan(plan);
  doc.setTried(tried);
  return true;
}

QString SessionStore::weightsPathFor(const QString& sessionPath) {
  QString base = QFileInfo(sessionPath).absoluteFilePath();
  if (base.endsWith(".topiary", Qt::CaseInsensitive)) base.chop(8);
  return base + ".weights.onnx";
}

QString SessionStore::weightsPathOf(const QJsonObject& session, const QString& sessionPath) {
  const QString f = session["weights"].toString();
  if (f.isEmpty()) return {};
  return QFileInfo(sessionPath).absoluteDir().absoluteFilePath(f);
}

namespace {

bool sameTensor(const topiary::Tensor& a, const topiary::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.bytes() == 0 || std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
}

bool sameAttribute(const topiary::Attribute& a, const topiary::Attribute& b) {
  return a.type == b.type && a.i == b.i && a.s == b.s && a.ints == b.ints && a.strings == b.strings &&
         std::memcmp(&a.f, &b.f, sizeof a.f) == 0 && a.floats.size() == b.floats.size() &&
         (a.floats.empty() || std::memcmp(a.floats.data(), b.floats.data(), a.floats.size() * sizeof(float)) == 0) &&
         sameTensor(a.t, b.t);
}

bool sameValueInfo(const topiary::ValueInfo& a, const topiary::ValueInfo& b) {
  return a.name == b.name && a.dtype == b.dtype && a.shapeString() == b.shapeString();
}

// What makes `got` another graph than `want`, or empty. Only the float
// initializers' values may differ: they are what training changes.
std::string graphMismatch(const topiary::Graph& want, const topiary::Graph& got) {
  if (got.nodes.size() != want.nodes.size())
    return std::to_string(got.nodes.size()) + " nodes instead of " + std::to_string(want.nodes.size());
  for (size_t i = 0; i < want.nodes.size(); ++i) {
    const topiary::Node& a = want.nodes[i];
    const topiary::Node& b = got.nodes[i];
    if (a.opType != b.opType || a.domain != b.domain || a.inputs != b.inputs || a.outputs != b.outputs)
      return "node " + a.label() + " differs";
    for (const auto& [key, value] : a.attrs) {
      auto it = b.attrs.find(key);
      if (it == b.attrs.end() || !sameAttribute(value, it->second))
        return "node " + a.label() + " has another attribute " + key;
    }
    for (const auto& [key, value] : b.attrs)
      if (!a.attrs.count(key)) return "node " + a.label() + " has another attribute " + key;
  }
  if (got.inputs.size() != want.inputs.size() || got.outputs.size() != want.outputs.size())
    return "the graph has other inputs or outputs";
  for (size_t i = 0; i < want.inputs.size(); ++i)
    if (!sameValueInfo(want.inputs[i], got.inputs[i]))
      return "input " + want.inputs[i].name + " differs (" + got.inputs[i].name + " " + got.inputs[i].shapeString() +
             ")";
  for (size_t i = 0; i < want.outputs.size(); ++i)
    if (got.outputs[i].name != want.outputs[i].name) return "output " + want.outputs[i].name + " differs";
  if (got.initializers.size() != want.initializers.size())
    return std::to_string(got.initializers.size()) + " initializers instead of " +
           std::to_string(want.initializers.size());
  for (const auto& [name, t] : want.initializers) {
    auto it = got.initializers.find(name);
    if (it == got.initializers.end()) return "initializer " + name + " is missing";
    if (it->second.dtype() != t.dtype() || it->second.shape() != t.shape())
      return "initializer " + name + " has another type or shape (" + topiary::shapeToString(it->second.shape()) +
             " instead of " + topiary::shapeToString(t.shape()) + ")";
    // Integer initializers (shapes, indices) are part of the graph, not weights.
    const bool real = t.dtype() == topiary::DType::Float || t.dtype() == topiary::DType::Float16 ||
                      t.dtype() == topiary::DType::Double;
    if (!real && !sameTensor(t, it->second)) return "initializer " + name + " holds other values";
  }
  return {};
}

}  // namespace

topiary::Result<std::shared_ptr<const LoadedModel>> SessionStore::loadWeights(const QString& path,
                                                                              const LoadedModel& original) {
  const std::string file = path.toStdString();
  if (!QFileInfo::exists(path)) return topiary::Status::badInput("the fine-tuned weights file " + file + " is missing");
  auto g = topiary::loadModel(file);
  if (!g)
    return topiary::Status::badInput("the fine-tuned weights file " + file +
                                     " cannot be read: " + g.status().message());
  const std::string mismatch = graphMismatch(*original.graph, g.value());
  if (!mismatch.empty())
    return topiary::Status::badInput("the fine-tuned weights file " + file + " does not belong to " +
                                     original.path.toStdString() + ": " + mismatch);
  // Only the weights come from the file; the graph stays the opened model's.
  topiary::Graph graph = *original.graph;
  for (auto& [name, t] : graph.initializers) t = std::move(g.value().initializers.at(name));
  return LoadedModel::fromGraph(std::move(graph), original.path);
}

SessionStore::Write SessionStore::prepare(const QString& path, bool autosave) const {
  Write w;
  w.path = path;
  w.autosave = autosave;
  w.discardGeneration = discardGeneration_;
  w.json = toJson(*doc_);
  if (doc_->hasModel() && doc_->weightsModified()) {
    w.weightsPath = weightsPathFor(path);
    w.json["weights"] = QFileInfo(w.weightsPath).fileName();
    w.weights = doc_->model();
  }
  return w;
}

bool SessionStore::submit(Write w, QString* error) {
  if (w.autosave && w.discardGeneration != discardGeneration_) return false;
  if (writing_) {
    // One pending write per file: the newest state.
    for (int i = queue_.size() - 1; i >= 0; --i)
      if (queue_[i].path == w.path) queue_.removeAt(i);
    queue_.append(w);
    return true;
  }
  // These weights are already in that file: only the JSON changes.
  if (w.weights && written_.value(w.weightsPath).lock() == w.weights && QFileInfo::exists(w.weightsPath))
    w.weights.reset();
  if (!w.weights) return finish(w, error);
  writing_ = true;
  current_ = w;
  weightsWriter_.setFuture(QtConcurrent::run([m = w.weights, out = w.weightsPath] {
    // Refuses to write over the source model; atomic (temp file, then rename).
    const topiary::Status st = topiary::saveModel(*m->graph, out.toStdString(), m->path.toStdString());
    return st ? QString() : QString::fromStdString(st.message());
  }));
  return true;
}

bool SessionStore::finish(const Write& w, QString* error) {
  QString err;
  if (!writeJson(w.json, w.path, &err)) {
    if (error) *error = err;
    failed(w, err);
    return false;
  }
  if (w.autosave) {
    emit autosaved(w.path);
  } else {
    path_ = w.path;
    emit saved(w.path);
  }
  return true;
}

void SessionStore::failed(const Write& w, const QString& error) {
  if (w.autosave)
    emit autosaveFailed(w.path, error);
  else
    emit saveFailed(w.path, error);
}

void SessionStore::startNext() {
  while (!writing_ && !queue_.isEmpty()) submit(queue_.takeFirst(), nullptr);
}

bool SessionStore::save(const QString& path, QString* error) { return submit(prepare(path, false), error); }

QString SessionStore::autosavePath() const {
  if (!autosave_.isEmpty()) return autosave_;
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.topiary";
}

bool SessionStore::hasRecovery() const { return QFileInfo::exists(autosavePath()); }

void SessionStore::discardRecovery() {
  timer_.stop();
  ++discardGeneration_;
  for (int i = queue_.size() - 1; i >= 0; --i)
    if (queue_[i].autosave) queue_.removeAt(i);
  const QString weights = weightsPathFor(autosavePath());
  written_.remove(weights);
  QFile::remove(autosavePath());
  QFile::remove(weights);
}

bool SessionStore::autosaveNow() {
  if (!doc_->hasModel()) return false;
  return submit(prepare(autosavePath(), true), nullptr);
}
