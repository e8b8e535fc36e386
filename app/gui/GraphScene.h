// The layer graph as a QGraphicsScene: one GraphNodeItem per operator and
// per graph input/output, one GraphEdgeItem per tensor between them, placed
// by GraphLayout. Selection is reported by node name; sparsity shading and
// dependency-group highlighting are set from outside.
#pragma once

#include <QGraphicsScene>
#include <QHash>
#include <QSet>
#include <QString>

#include "topiary/graph.h"

class GraphNodeItem;
class GraphEdgeItem;

class GraphScene : public QGraphicsScene {
  Q_OBJECT
 public:
  explicit GraphScene(QObject* parent = nullptr);
  ~GraphScene() override;

  // Rebuilds every item. `prunable` names the nodes with prunable weights.
  void setGraph(const topiary::Graph& graph, const QSet<QString>& prunable);
  void clearGraph();

  double lastLayoutMs() const { return layoutMs_; }
  double lastBuildMs() const { return buildMs_; }
  int nodeCount() const { return nodes_.size(); }
  int edgeCount() const { return edgeCount_; }
  int crossings() const { return crossings_; }

  GraphNodeItem* node(const QString& name) const { return nodes_.value(name, nullptr); }
  QString selectedNode() const;
  // Selects (and reports) a node; empty name clears the selection.
  void selectNode(const QString& name);
  // Names containing `text` (case-insensitive), in graph order.
  QStringList findNodes(const QString& text) const;

  void setSparsity(const QHash<QString, double>& sparsity);
  void setHighlighted(const QSet<QString>& names);
  QSet<QString> highlighted() const { return highlighted_; }

 signals:
  void nodeSelected(const QString& name);

 private:
  void onSelectionChanged();

  QHash<QString, GraphNodeItem*> nodes_;
  QStringList order_;
  QSet<QString> highlighted_;
  double layoutMs_ = 0;
  double buildMs_ = 0;
  int edgeCount_ = 0;
  int crossings_ = 0;
  QString lastSelected_;
};
