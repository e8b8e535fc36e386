// Widgets the analysis views build the same way: a chart view, a chart
// emptied for new data, the "tolerance in points" box and the thin progress
// bar of a background analysis.
#pragma once

#include <QtCore/qnamespace.h>

#include <QString>

class QChart;
class QChartView;
class QDoubleSpinBox;
class QProgressBar;
class QValueAxis;
class QWidget;

namespace analysis {

// An antialiased chart view holding a new chart with this title and legend position.
QChartView* makeChartView(const QString& title, QWidget* parent, Qt::Alignment legend = Qt::AlignTop,
                          int minWidth = 420, int minHeight = 240);

// Removes every series and axis (the axes are deleted).
void resetChart(QChart* chart);

// A value axis with a title, a printf label format and a range.
QValueAxis* makeValueAxis(const QString& title, const char* labelFormat, double min, double max);

// Accuracy a choice may lose, in points (0..50, default 1.0), with a tooltip.
QDoubleSpinBox* makeToleranceSpin(const QString& toolTip, QWidget* parent);

// A 10-pixel progress bar without text, in thousandths.
QProgressBar* makeThinProgressBar(QWidget* parent);

}  // namespace analysis
