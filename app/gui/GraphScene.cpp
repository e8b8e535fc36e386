#include "GraphScene.h"

#include <QElapsedTimer>
#include <unordered_map>

#include "GraphEdgeItem.h"
#include "GraphLayout.h"
#include "GraphNodeItem.h"

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {
  // Items never move after layout, so the BSP index pays off for hit tests.
  setItemIndexMethod(BspTreeIndex);
  connect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
}

GraphScene::~GraphScene() {
  // ~QGraphicsScene deletes the items and emits selectionChanged while this
  // part of the object is already gone: clear here, with signals blocked.
  blockSignals(true);
  clear();
}

void GraphScene::clearGraph() {
  QSignalBlocker block(this);
  clear();
  nodes_.clear();
  order_.clear();
  highlighted_.clear();
  edgeCount_ = 0;
  lastSelected_.clear();
}

void GraphScene::setGraph(const topiary::Graph& graph, const QSet<QString>& prunable) {
  QElapsedTimer total;
  total.start();
  clearGraph();

  // Vertices: graph inputs, operators, graph outputs.
  struct Vertex {
    QString name, op, detail;
    GraphNodeItem::Kind kind;
  };
  QVector<Vertex> vs;
  std::unordered_map<std::string, int> producer;  // tensor -> vertex
  for (const auto& in : graph.inputs) {
    producer[in.name] = vs.size();
    vs.push_back({QString::fromStdString(in.name), "input", QString::fromStdString(in.shapeString()),
                  GraphNodeItem::Kind::Input});
  }
  const int firstOp = vs.size();
  for (const auto& n : graph.nodes) {
    for (const auto& out : n.outputs)
      if (!out.empty()) producer[out] = vs.size();
    vs.push_back({QString::fromStdString(n.label()), QString::fromStdString(n.opType), {}, GraphNodeItem::Kind::Operator});
  }
  QVector<GraphLayout::Edge> edges;
  QStringList labels;
  auto shapeOf = [&](const std::string& t) {
    const topiary::ValueInfo* vi = graph.info(t);
    return vi && vi->hasShape ? QString::fromStdString(vi->shapeString()) : QString();
  };
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& in : graph.nodes[i].inputs) {
      auto it = producer.find(in);
      if (in.empty() || it == producer.end()) continue;  // initializers are not drawn
      edges.push_back({it->second, firstOp + int(i)});
      labels << shapeOf(in);
    }
  for (const auto& out : graph.outputs) {
    int v = vs.size();
    vs.push_back({QString::fromStdString(out.name) + " (output)", "output", QString::fromStdString(out.shapeString()),
                  GraphNodeItem::Kind::Output});
    auto it = producer.find(out.name);
    if (it != producer.end()) {
      edges.push_back({it->second, v});
      labels << shapeOf(out.name);
    }
  }

  QElapsedTimer lt;
  lt.start();
  GraphLayout layout;
  layout.setNodeSize(QSizeF(GraphNodeItem::kWidth, GraphNodeItem::kHeight));
  GraphLayout::Result r = layout.layout(vs.size(), edges);
  layoutMs_ = lt.nsecsElapsed() / 1e6;
  crossings_ = r.crossings;

  for (int i = 0; i < vs.size(); ++i) {
    auto* item = new GraphNodeItem(vs[i].name, vs[i].op, vs[i].kind);
    item->setPos(r.centers[i]);
    item->setPrunable(prunable.contains(vs[i].name));
    if (!vs[i].detail.isEmpty()) item->setDetail(vs[i].detail);
    addItem(item);
    nodes_.insert(vs[i].name, item);
    order_ << vs[i].name;
  }
  for (int e = 0; e < edges.size(); ++e) addItem(new GraphEdgeItem(r.routes[e], labels[e]));
  edgeCount_ = edges.size();
  setSceneRect(QRectF(QPointF(0, 0), r.size).adjusted(-40, -40, 40, 40));
  buildMs_ = total.nsecsElapsed() / 1e6;
}

QString GraphScene::selectedNode() const {
  for (QGraphicsItem* it : selectedItems())
    if (auto* n = dynamic_cast<GraphNodeItem*>(it)) return n->name();
  return {};
}

void GraphScene::selectNode(const QString& name) {
  GraphNodeItem* target = nodes_.value(name, nullptr);
  if (target && target->isSelected() && selectedItems().size() == 1) return;
  {
    QSignalBlocker block(this);
    clearSelection();
    if (target) target->setSelected(true);
  }
  onSelectionChanged();
}

QStringList GraphScene::findNodes(const QString& text) const {
  QStringList out;
  for (const QString& n : order_)
    if (n.contains(text, Qt::CaseInsensitive) || nodes_.value(n)->op().compare(text, Qt::CaseInsensitive) == 0)
      out << n;
  return out;
}

void GraphScene::setSparsity(const QHash<QString, double>& sparsity) {
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) (*it)->setSparsity(sparsity.value(it.key(), 0.0));
}

void GraphScene::setHighlighted(const QSet<QString>& names) {
  highlighted_.clear();
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
    bool h = names.contains(it.key());
    (*it)->setHighlighted(h);
    if (h) highlighted_.insert(it.key());
  }
}

void GraphScene::onSelectionChanged() {
  QString s = selectedNode();
  if (s == lastSelected_) return;
  lastSelected_ = s;
  emit nodeSelected(s);
}
