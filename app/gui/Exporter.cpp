#include "Exporter.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>

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
  topiary::Status st = topiary::saveModel(written, outPath.toStdString(), model.path.toStdString());
  if (!st) return fail(QString::fromStdString(st.message()));
  st = topiary::writeFileAtomic(recipePath.toStdString(), json.toStdString(), model.path.toStdString());
  if (!st) return fail(QString::fromStdString(st.message()));
  QString start = model.path;
  if (weightsModified) {
    st = topiary::saveModel(*model.graph, basePath.toStdString(), model.path.toStdString());
    if (!st) return fail(QString::fromStdString(st.message()));
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
