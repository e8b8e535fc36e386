#include "Exporter.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QVector>

#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"
#include "topiary/recipe.h"

namespace {

// An argument as a POSIX shell reads it back: a path with a space (or a
// quote, $ or *) would otherwise split or expand when the command is pasted.
QString shellQuoted(const QString& arg) {
  static const QRegularExpression plain("^[A-Za-z0-9_./:=+,@%-]+$");
  if (plain.match(arg).hasMatch()) return arg;
  QString q = arg;
  q.replace("'", "'\\''");
  return "'" + q + "'";
}

struct PendingWrite {
  QString path;
  std::string bytes;
};

// Writes every file (each atomically) or none: on a failure the files this
// call created are removed and the ones it replaced get their previous bytes
// back. Returns why it failed, or "".
QString writeAllOrNothing(const QVector<PendingWrite>& writes, const QString& protect) {
  const std::string guard = protect.toStdString();
  for (const PendingWrite& w : writes) {
    topiary::Status st = topiary::checkOutputPath(w.path.toStdString(), guard);
    if (!st) return QString::fromStdString(st.message());
  }
  struct Done {
    QString path;
    bool existed;
    std::string previous;
  };
  QVector<Done> done;
  for (const PendingWrite& w : writes) {
    Done d{w.path, QFileInfo::exists(w.path), {}};
    if (d.existed) {
      auto old = topiary::readFile(w.path.toStdString());
      if (!old) return QString::fromStdString(old.status().message());
      d.previous = std::move(old.value());
    }
    topiary::Status st = topiary::writeFileAtomic(w.path.toStdString(), w.bytes, guard);
    if (!st) {
      for (auto it = done.rbegin(); it != done.rend(); ++it) {
        if (it->existed)
          (void)topiary::writeFileAtomic(it->path.toStdString(), it->previous, guard);
        else
          QFile::remove(it->path);
      }
      return QString::fromStdString(st.message());
    }
    done.push_back(std::move(d));
  }
  return {};
}

}  // namespace

QString Exporter::defaultRecipePath(const QString& outPath) {
  QString base = outPath;
  if (base.endsWith(".onnx", Qt::CaseInsensitive)) base.chop(5);
  return base + ".recipe.json";
}

QString Exporter::defaultBasePath(const QString& outPath) {
  QString base = outPath;
  if (base.endsWith(".onnx", Qt::CaseInsensitive)) base.chop(5);
  return base + ".trained-base.onnx";
}

ExportResult Exporter::exportModel(const LoadedModel& model, const PrunePlan& plan, const QString& outPath,
                                   QString recipePath, bool weightsModified) {
  ExportResult r;
  if (recipePath.isEmpty()) recipePath = defaultRecipePath(outPath);
  auto fail = [&](const QString& why) {
    r.error = why;
    return r;
  };
  const QString basePath = weightsModified ? defaultBasePath(outPath) : QString();
  if (topiary::sameFile(outPath.toStdString(), model.path.toStdString()) ||
      topiary::sameFile(recipePath.toStdString(), model.path.toStdString()) ||
      (weightsModified && topiary::sameFile(basePath.toStdString(), model.path.toStdString())))
    return fail(QString("refusing to overwrite the source model %1").arg(model.path));
  // ADMM and DNS train while they prune; export applies a plan to weights
  // already in memory, so those methods run as jobs first.
  if (plan.global().method != "magnitude")
    return fail(QString("method '%1' trains while pruning: run it from the Jobs panel (%2 button), then export "
                        "the result with method 'magnitude' (key 'method')")
                    .arg(plan.global().method, plan.global().method.toUpper()));
  const QByteArray json = QJsonDocument(plan.toRecipe()).toJson(QJsonDocument::Indented);
  auto recipe = topiary::parseRecipe(json.toStdString());
  if (!recipe) return fail(QString::fromStdString(recipe.status().message()));
  auto run = topiary::runRecipe(*model.graph, recipe.value());
  if (!run) return fail(QString::fromStdString(run.status().message()));
  for (const auto& l : run->log) r.log << QString::fromStdString(l);
  // Same choice as `topiary-cli prune` without --keep-shapes.
  r.structural = run->structural;
  const topiary::Graph& outFloat = run->structural ? run->removed : run->masked;
  r.params = outFloat.paramCount();
  r.nonzeroParams = outFloat.nonzeroParamCount();
  topiary::Graph written = outFloat;
  if (recipe->quantize.bits > 0) {
    auto q = topiary::exportQdq(outFloat, {recipe->quantize.bits, recipe->quantize.perChannel});
    if (!q) return fail(QString::fromStdString(q.status().message()));
    written = std::move(q.value());
  }
  // All or nothing: every file's bytes are made and every path checked before
  // the first write, and a write that fails takes back the ones before it
  // (a model without its recipe, or a recipe naming a trained base that is
  // not there, would not reproduce anything).
  auto modelBytes = topiary::serializeModel(written);
  if (!modelBytes) return fail(QString::fromStdString(modelBytes.status().message()));
  QVector<PendingWrite> writes;
  writes.push_back({outPath, std::move(modelBytes.value())});
  writes.push_back({recipePath, json.toStdString()});
  if (weightsModified) {
    auto baseBytes = topiary::serializeModel(*model.graph);
    if (!baseBytes) return fail(QString::fromStdString(baseBytes.status().message()));
    writes.push_back({basePath, std::move(baseBytes.value())});
  }
  const QString why = writeAllOrNothing(writes, model.path);
  if (!why.isEmpty()) return fail(why);
  QString start = model.path;
  if (weightsModified) {
    r.basePath = QFileInfo(basePath).absoluteFilePath();
    start = r.basePath;
  }
  r.ok = true;
  r.modelPath = QFileInfo(outPath).absoluteFilePath();
  r.recipePath = QFileInfo(recipePath).absoluteFilePath();
  r.cliCommand = QString("topiary-cli prune %1 --recipe %2 --out %3")
                     .arg(shellQuoted(start), shellQuoted(r.recipePath), shellQuoted(r.modelPath));
  return r;
}
