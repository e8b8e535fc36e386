// The workbench's Analysis menu: the sensitivity, "worth it?", dynamic
// pruning and teaching views as dock widgets (hidden until asked for), and
// Export Report. Built on MainWindow's public API, so the window itself only
// creates this object.
#pragma once

#include <QObject>

class MainWindow;
class QDockWidget;
class SensitivityView;
class VerdictView;
class DynamicView;
class TeachingTour;
class ReportExporter;

class AnalysisMenu : public QObject {
  Q_OBJECT
 public:
  explicit AnalysisMenu(MainWindow* window);

  SensitivityView* sensitivity() const { return sensitivity_; }
  VerdictView* verdict() const { return verdict_; }
  DynamicView* dynamic() const { return dynamic_; }
  TeachingTour* teaching() const { return teaching_; }
  ReportExporter* exporter() const { return exporter_; }
  // Shows and raises a view's dock.
  void show(QWidget* view);

 private:
  QDockWidget* dock(QWidget* view, const QString& title, const QString& objectName);
  void exportDialog();

  MainWindow* window_;
  SensitivityView* sensitivity_;
  VerdictView* verdict_;
  DynamicView* dynamic_;
  TeachingTour* teaching_;
  ReportExporter* exporter_;
};
