#include "GraphLayout.h"

#include <algorithm>
#include <numeric>
#include <queue>

namespace {

// Crossings between two adjacent layers, counted by pairs (fine for the few
// hundred nodes per layer we see; it runs only once per layout, at the end).
int countCrossings(const QVector<QVector<int>>& down, const QVector<int>& upperOrder, const QVector<int>& pos) {
  QVector<QPair<int, int>> segs;
  for (int u : upperOrder)
    for (int v : down[u]) segs.push_back({pos[u], pos[v]});
  std::sort(segs.begin(), segs.end());
  int crossings = 0;
  for (int i = 0; i < segs.size(); ++i)
    for (int j = i + 1; j < segs.size(); ++j)
      if (segs[i].first < segs[j].first && segs[i].second > segs[j].second) ++crossings;
  return crossings;
}

}  // namespace

GraphLayout::Result GraphLayout::layout(int nodeCount, const QVector<Edge>& edges) const {
  Result r;
  if (nodeCount <= 0) return r;

  // Topological order (Kahn); edges closing a cycle are dropped from layering.
  QVector<QVector<int>> succ(nodeCount);
  QVector<int> indeg(nodeCount, 0);
  for (const Edge& e : edges) {
    if (e.from < 0 || e.to < 0 || e.from >= nodeCount || e.to >= nodeCount || e.from == e.to) continue;
    succ[e.from].push_back(e.to);
    ++indeg[e.to];
  }
  QVector<int> order;
  order.reserve(nodeCount);
  std::queue<int> ready;
  for (int i = 0; i < nodeCount; ++i)
    if (indeg[i] == 0) ready.push(i);
  QVector<int> deg = indeg;
  while (!ready.empty()) {
    int u = ready.front();
    ready.pop();
    order.push_back(u);
    for (int v : succ[u])
      if (--deg[v] == 0) ready.push(v);
  }
  QVector<char> placed(nodeCount, 0);
  for (int u : order) placed[u] = 1;
  for (int i = 0; i < nodeCount; ++i)
    if (!placed[i]) order.push_back(i);  // nodes on a cycle: append in index order

  // Longest-path layering: a node sits one layer below its deepest producer.
  QVector<int> layer(nodeCount, 0);
  QVector<int> rank(nodeCount);
  for (int i = 0; i < order.size(); ++i) rank[order[i]] = i;
  for (int u : order)
    for (int v : succ[u])
      if (rank[v] > rank[u]) layer[v] = std::max(layer[v], layer[u] + 1);
  int layers = 1 + *std::max_element(layer.begin(), layer.end());

  // Virtual graph: real nodes then dummies, with edges only between adjacent layers.
  QVector<int> vlayer = layer;
  QVector<QVector<int>> down(nodeCount), up(nodeCount);
  QVector<QVector<int>> chains(edges.size());  // virtual node sequence per edge
  for (int ei = 0; ei < edges.size(); ++ei) {
    const Edge& e = edges[ei];
    if (e.from < 0 || e.to < 0 || e.from >= nodeCount || e.to >= nodeCount || e.from == e.to) continue;
    if (layer[e.to] <= layer[e.from]) {  // back edge: drawn directly
      chains[ei] = {e.from, e.to};
      continue;
    }
    QVector<int> chain{e.from};
    int prev = e.from;
    for (int l = layer[e.from] + 1; l < layer[e.to]; ++l) {
      int d = vlayer.size();
      vlayer.push_back(l);
      down.push_back({});
      up.push_back({});
      down[prev].push_back(d);
      up[d].push_back(prev);
      chain.push_back(d);
      prev = d;
    }
    down[prev].push_back(e.to);
    up[e.to].push_back(prev);
    chain.push_back(e.to);
    chains[ei] = chain;
  }
  const int vcount = vlayer.size();
  QVector<QVector<int>> byLayer(layers);
  for (int u : order) byLayer[layer[u]].push_back(u);  // real nodes in topological order
  for (int d = nodeCount; d < vcount; ++d) byLayer[vlayer[d]].push_back(d);
  QVector<int> pos(vcount, 0);
  auto renumber = [&](int l) {
    for (int i = 0; i < byLayer[l].size(); ++i) pos[byLayer[l][i]] = i;
  };
  for (int l = 0; l < layers; ++l) renumber(l);

  // Barycentric sweeps: order each layer by the mean position of its
  // neighbours in the layer just fixed; alternate downward and upward.
  QVector<double> key(vcount, 0);
  for (int s = 0; s < sweeps_; ++s) {
    bool downward = (s % 2) == 0;
    for (int step = 1; step < layers; ++step) {
      int l = downward ? step : layers - 1 - step;
      for (int v : byLayer[l]) {
        const QVector<int>& nb = downward ? up[v] : down[v];
        if (nb.isEmpty()) {
          key[v] = pos[v];
          continue;
        }
        double sum = 0;
        for (int u : nb) sum += pos[u];
        key[v] = sum / nb.size();
      }
      std::stable_sort(byLayer[l].begin(), byLayer[l].end(), [&](int a, int b) { return key[a] < key[b]; });
      renumber(l);
    }
  }
  r.crossings = 0;
  for (int l = 0; l + 1 < layers; ++l) r.crossings += countCrossings(down, byLayer[l], pos);

  // x coordinates: start packed and centred, then pull each node towards its
  // neighbours' mean x with the order and minimum gap preserved.
  const double slotW = nodeSize_.width() + hGap_;
  const double dummyW = 18;
  QVector<double> x(vcount, 0);
  auto width = [&](int v) { return v < nodeCount ? slotW : dummyW; };
  double maxWidth = 0;
  for (int l = 0; l < layers; ++l) {
    double w = 0;
    for (int v : byLayer[l]) w += width(v);
    maxWidth = std::max(maxWidth, w);
  }
  for (int l = 0; l < layers; ++l) {
    double w = 0;
    for (int v : byLayer[l]) w += width(v);
    double cx = (maxWidth - w) / 2;
    for (int v : byLayer[l]) {
      x[v] = cx + width(v) / 2;
      cx += width(v);
    }
  }
  for (int it = 0; it < 6; ++it) {
    bool downward = (it % 2) == 0;
    for (int step = 0; step < layers; ++step) {
      int l = downward ? step : layers - 1 - step;
      const QVector<int>& row = byLayer[l];
      QVector<double> want(row.size());
      for (int i = 0; i < row.size(); ++i) {
        int v = row[i];
        double sum = 0;
        int n = 0;
        for (int u : up[v]) sum += x[u], ++n;
        for (int u : down[v]) sum += x[u], ++n;
        want[i] = n ? sum / n : x[v];
      }
      // Left-to-right then right-to-left pass keeps the minimum separation.
      for (int i = 0; i < row.size(); ++i) {
        double lo = i ? x[row[i - 1]] + (width(row[i - 1]) + width(row[i])) / 2 : -1e18;
        x[row[i]] = std::max(want[i], lo);
      }
      for (int i = row.size() - 2; i >= 0; --i) {
        double hi = x[row[i + 1]] - (width(row[i + 1]) + width(row[i])) / 2;
        x[row[i]] = std::min(x[row[i]], hi);
      }
    }
  }
  double minX = 1e18, maxX = -1e18;
  for (int v = 0; v < vcount; ++v) {
    minX = std::min(minX, x[v] - width(v) / 2);
    maxX = std::max(maxX, x[v] + width(v) / 2);
  }
  const double rowH = nodeSize_.height() + vGap_;
  auto center = [&](int v) { return QPointF(x[v] - minX, vlayer[v] * rowH + nodeSize_.height() / 2); };

  r.centers.resize(nodeCount);
  r.layerOf = layer;
  for (int v = 0; v < nodeCount; ++v) r.centers[v] = center(v);
  r.routes.resize(edges.size());
  for (int ei = 0; ei < edges.size(); ++ei)
    for (int v : chains[ei]) r.routes[ei].push_back(center(v));
  r.size = QSizeF(maxX - minX, layers * rowH - vGap_);
  r.layers = layers;
  return r;
}
