#include "ChartUtil.h"

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QDoubleSpinBox>
#include <QLegend>
#include <QPainter>
#include <QProgressBar>
#include <QValueAxis>

namespace analysis {

QChartView* makeChartView(const QString& title, QWidget* parent, Qt::Alignment legend, int minWidth, int minHeight) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setAlignment(legend);
  auto* v = new QChartView(chart, parent);
  v->setRenderHint(QPainter::Antialiasing);
  v->setMinimumSize(minWidth, minHeight);
  return v;
}

void resetChart(QChart* chart) {
  chart->removeAllSeries();
  for (QAbstractAxis* a : chart->axes()) {
    chart->removeAxis(a);
    delete a;
  }
}

QValueAxis* makeValueAxis(const QString& title, const char* labelFormat, double min, double max) {
  auto* a = new QValueAxis;
  a->setTitleText(title);
  a->setLabelFormat(labelFormat);
  a->setRange(min, max);
  return a;
}

QDoubleSpinBox* makeToleranceSpin(const QString& toolTip, QWidget* parent) {
  auto* s = new QDoubleSpinBox(parent);
  s->setRange(0, 50);
  s->setDecimals(1);
  s->setSingleStep(0.5);
  s->setValue(1.0);
  s->setSuffix(QObject::tr(" points"));
  s->setToolTip(toolTip);
  return s;
}

QProgressBar* makeThinProgressBar(QWidget* parent) {
  auto* b = new QProgressBar(parent);
  b->setRange(0, 1000);
  b->setTextVisible(false);
  b->setMaximumHeight(10);
  return b;
}

}  // namespace analysis
