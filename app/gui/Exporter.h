// Export of the current work: the pruned (optionally quantized) ONNX model
// and the recipe JSON that reproduces it with `topiary-cli prune`. Runs the
// recipe through topiary::runRecipe exactly as the CLI does (no fine-tuning
// unless the recipe asks for it), so both write the same weights. Never
// writes over the source model; writes are atomic. Call from a worker.
#pragma once

#include <QString>
#include <QStringList>

#include "LoadedModel.h"
#include "PrunePlan.h"

struct ExportResult {
  bool ok = false;
  QString error;
  QString modelPath;
  QString recipePath;
  // When a training job changed the weights, the source file alone does not
  // reproduce them: the trained weights (original shapes) are written here
  // and the command below starts from this file instead.
  QString basePath;
  QString cliCommand;       // the topiary-cli command that reproduces modelPath (paths quoted for a POSIX shell)
  bool structural = false;  // channels physically removed
  qint64 params = 0, nonzeroParams = 0;
  QStringList log;
};

class Exporter {
 public:
  // recipePath empty: <out without .onnx>.recipe.json next to the model.
  // `weightsModified`: the model's weights are not those of model.path.
  static ExportResult exportModel(const LoadedModel& model, const PrunePlan& plan, const QString& outPath,
                                  QString recipePath = QString(), bool weightsModified = false);
  static QString defaultBasePath(const QString& outPath);
  static QString defaultRecipePath(const QString& outPath);
};
