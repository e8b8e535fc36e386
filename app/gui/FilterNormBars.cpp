#include "FilterNormBars.h"

#include <QPainter>
#include <algorithm>
#include <cmath>
#include <numeric>

FilterNormBars::FilterNormBars(QWidget* parent) : QWidget(parent) { setMinimumHeight(56); }

void FilterNormBars::setWeights(const topiary::Tensor* weight, const topiary::Tensor* mask, bool filtersAreColumns,
                                const QString& criterion) {
  norms_.clear();
  keptFraction_.clear();
  criterion_ = criterion == "l2" ? "l2" : "l1";
  if (weight && weight->dtype() == topiary::DType::Float && weight->rank() >= 2) {
    const topiary::Shape& s = weight->shape();
    const bool cols = filtersAreColumns && weight->rank() == 2;
    const int64_t filters = cols ? s[1] : s[0];
    const int64_t per = weight->numel() / std::max<int64_t>(1, filters);
    const float* w = weight->f();
    const float* m = mask && mask->shape() == s ? mask->f() : nullptr;
    QVector<double> norm(int(filters), 0), kept(int(filters), 0);
    for (int64_t i = 0; i < weight->numel(); ++i) {
      const int64_t f = cols ? i % s[1] : i / per;
      norm[int(f)] += criterion_ == "l2" ? double(w[i]) * w[i] : std::abs(double(w[i]));
      kept[int(f)] += m ? (m[i] != 0.f) : 1.0;
    }
    QVector<int> order(static_cast<int>(filters), 0);
    std::iota(order.begin(), order.end(), 0);
    if (criterion_ == "l2")
      for (double& v : norm) v = std::sqrt(v);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return norm[a] < norm[b]; });
    for (int f : order) {
      norms_.push_back(norm[f]);
      keptFraction_.push_back(kept[f] / double(per));
    }
  }
  update();
}

void FilterNormBars::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  QRect area = rect().adjusted(6, 18, -6, -4);
  p.setPen(QColor(60, 60, 60));
  QFont f = font();
  f.setPointSizeF(8);
  p.setFont(f);
  if (norms_.isEmpty()) return;
  p.drawText(rect().adjusted(6, 2, -6, 0), Qt::AlignLeft | Qt::AlignTop,
             tr("%1 norm per filter, sorted (%2 filters; red: pruned, orange: partly)")
                 .arg(criterion_.toUpper())
                 .arg(norms_.size()));
  const double maxNorm = std::max(1e-12, norms_.back());
  const double bw = double(area.width()) / norms_.size();
  p.setPen(Qt::NoPen);
  for (int i = 0; i < norms_.size(); ++i) {
    const double h = area.height() * norms_[i] / maxNorm;
    const double k = keptFraction_[i];
    QColor c = k <= 0 ? QColor(210, 50, 50) : (k < 1 ? QColor(235, 150, 40) : QColor(70, 120, 190));
    p.setBrush(c);
    p.drawRect(QRectF(area.left() + i * bw, area.bottom() - h, std::max(1.0, bw - (bw > 3 ? 1 : 0)), h));
  }
}
