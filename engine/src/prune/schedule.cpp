// Sparsity schedules.
#include <cmath>

#include "topiary/prune_run.h"

namespace topiary {

double agpSparsity(double initial, double final, int t, int n) {
  if (n <= 0) return final;
  double x = 1.0 - static_cast<double>(std::min(std::max(t, 0), n)) / n;
  return final + (initial - final) * x * x * x;
}

std::vector<double> scheduleTargets(const ScheduleConfig& s, double finalSparsity, int steps) {
  std::vector<double> out;
  steps = std::max(1, steps);
  switch (s.kind) {
    case ScheduleKind::OneShot: return {1.0};
    case ScheduleKind::Iterative:
      for (int t = 1; t <= steps; ++t) out.push_back(static_cast<double>(t) / steps);
      return out;
    case ScheduleKind::Agp:
      for (int t = 1; t <= steps; ++t) {
        // As a fraction of the final sparsity so each layer scales its own target.
        double sf = finalSparsity > 0 ? finalSparsity : 1.0;
        double si = std::min(s.initialSparsity, sf);
        out.push_back(agpSparsity(si, sf, t, steps) / sf);
      }
      return out;
  }
  return {1.0};
}

double prunableSparsity(const Graph& graph) {
  int64_t zeros = 0, total = 0;
  for (const auto& L : findPrunableLayers(graph)) {
    const Tensor& w = graph.initializers.at(L.weight);
    total += w.numel();
    for (int64_t i = 0; i < w.numel(); ++i) zeros += w.f()[i] == 0.f;
  }
  return total ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

}  // namespace topiary
