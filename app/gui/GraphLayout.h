// Layered (Sugiyama-style) layout of a DAG, top to bottom: longest-path
// layering, dummy nodes on edges that span several layers, barycentric
// ordering sweeps to reduce crossings, then x coordinates pulled towards the
// neighbours' mean while keeping the order and a minimum gap. Pure geometry,
// no Qt widgets, so it can be timed and tested on large graphs.
#pragma once

#include <QPointF>
#include <QSizeF>
#include <QVector>

class GraphLayout {
 public:
  struct Edge {
    int from = 0;
    int to = 0;
  };
  struct Result {
    QVector<QPointF> centers;          // one per node
    QVector<int> layerOf;              // layer index per node
    QVector<QVector<QPointF>> routes;  // per edge: polyline from source to target centre
    QSizeF size;
    int layers = 0;
    int crossings = 0;                 // edge crossings between adjacent layers after ordering
  };

  GraphLayout() = default;
  void setNodeSize(QSizeF s) { nodeSize_ = s; }
  void setSpacing(double horizontal, double vertical) {
    hGap_ = horizontal;
    vGap_ = vertical;
  }
  void setSweeps(int sweeps) { sweeps_ = sweeps; }

  // Edges must form a DAG over [0, nodeCount); edges that would close a cycle
  // are ignored for layering (they still get a route).
  Result layout(int nodeCount, const QVector<Edge>& edges) const;

 private:
  QSizeF nodeSize_{150, 40};
  double hGap_ = 30;
  double vGap_ = 46;
  int sweeps_ = 8;
};
