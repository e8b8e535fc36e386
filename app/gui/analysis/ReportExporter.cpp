#include "ReportExporter.h"

#include <QFileInfo>
#include <QJsonDocument>

#include "AnalysisJob.h"
#include "ModelDocument.h"
#include "ValidationData.h"
#include "topiary/analysis_report.h"
#include "topiary/recipe.h"

ReportExporter::ReportExporter(ModelDocument* doc, QObject* parent)
    : QObject(parent), doc_(doc), job_(new AnalysisJob(this)) {
  connect(job_, &AnalysisJob::finished, this, [this](bool ok, const QString& err) { emit finished(ok, err); });
}

void ReportExporter::setData(const QString& spec, qint64 limit) {
  dataSpec_ = spec;
  dataLimit_ = limit;
}
void ReportExporter::cancel() { job_->cancel(); }
bool ReportExporter::busy() const { return job_->busy(); }

bool ReportExporter::exportTo(const QString& dir) {
  if (!doc_->hasModel() || job_->busy()) return false;
  auto model = doc_->model();
  const QByteArray recipeText = QJsonDocument(doc_->plan().toRecipe()).toJson(QJsonDocument::Compact);
  std::vector<topiary::TradeoffPoint> tried;
  for (int i = 0; i < doc_->tried().size(); ++i) {
    const TriedPoint& t = doc_->tried()[i];
    tried.push_back({tr("tried %1").arg(i + 1).toStdString(), t.accuracy, double(t.storageBytes), t.latencyMs});
  }
  const QString spec = dataSpec_;
  const qint64 limit = dataLimit_;
  const int runs = latencyRuns_;
  const std::vector<double> sparsities = sparsities_;
  return job_->start([=](AnalysisJob& job) -> QString {
    auto recipe = topiary::parseRecipe(recipeText.toStdString());
    if (!recipe) return QString::fromStdString(recipe.status().message());
    ValidationData data(spec, limit);
    QString why;
    const topiary::Dataset* d = data.forGraph(*model->graph, &why);
    if (!d) return why;
    // The workbench plan has no fine-tuning; a recipe with finetune.epochs needs its data.
    std::unique_ptr<ValidationData> train;
    const topiary::Dataset* trainData = nullptr;
    if (recipe->finetune.epochs > 0 && !recipe->finetune.data.empty()) {
      train = std::make_unique<ValidationData>(QString::fromStdString(recipe->finetune.data), recipe->finetune.limit);
      trainData = train->forGraph(*model->graph, &why);
      if (!trainData) return why;
    }
    topiary::AnalysisOptions o;
    o.modelPath = model->path.toStdString();
    o.recipeName = "workbench plan";
    o.trainData = trainData;
    o.latencyRuns = runs;
    o.sensitivityOptions.sparsities = sparsities;
    o.cancel = job.cancelFlag();
    o.progress = [&job](const std::string& stage, double f) { job.report(f, QString::fromStdString(stage)); };
    auto rep = topiary::buildAnalysisReport(*model->graph, recipe.value(), *d, o);
    if (!rep) return QString::fromStdString(rep.status().message());
    for (const auto& t : tried) rep->tradeoff.push_back(t);
    topiary::Status st = topiary::writeAnalysisReport(dir.toStdString(), rep.value());
    if (!st) return QString::fromStdString(st.message());
    return QString();
  });
}
