// Analysis > Export Report: runs the document's plan as a recipe through the
// engine's analysis report (the same code as `topiary-cli report`) in the
// background and writes the folder; the configurations the user tried are
// added to the trade-off chart.
#pragma once

#include <QObject>
#include <QString>

class ModelDocument;
class AnalysisJob;

class ReportExporter : public QObject {
  Q_OBJECT
 public:
  explicit ReportExporter(ModelDocument* doc, QObject* parent = nullptr);

  void setData(const QString& spec, qint64 limit);
  void setLatencyRuns(int runs) { latencyRuns_ = runs; }
  void setSparsities(const std::vector<double>& s) { sparsities_ = s; }
  // Starts writing the report to `dir`; finished() follows. False while busy.
  bool exportTo(const QString& dir);
  void cancel();
  bool busy() const;
  AnalysisJob* job() const { return job_; }

 signals:
  void finished(bool ok, const QString& message);

 private:
  ModelDocument* doc_;
  AnalysisJob* job_;
  QString dataSpec_ = "fashion-mnist";
  qint64 dataLimit_ = 1000;
  int latencyRuns_ = 20;
  std::vector<double> sparsities_ = {0.1, 0.3, 0.5, 0.7, 0.9};
};
