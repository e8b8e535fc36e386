// Internal: the pruning methods runRecipe dispatches to (engine/src/prune/).
#pragma once

#include <string>
#include <vector>

#include "topiary/prune_run.h"

namespace topiary::prune_detail {

TrainOptions finetuneOptions(const Recipe& r, const PruneRunOptions& o, int epochs);
// Adapts PruneRunOptions::progress to train()'s progress callback.
std::function<bool(const TrainProgress&)> trainProgress(const PruneRunOptions& o, const std::string& stage, int step,
                                                        int steps);

// ADMM: leaves `graph` hard-pruned and retrained, `masks` set; `log` gets one
// line per iteration with rho and the relative primal residual ||W - Z|| / ||W||.
Status runAdmm(Graph& graph, const PruneConfig& config, const Recipe& r, const PruneRunOptions& o, MaskSet& masks,
               std::vector<std::string>& log);
// Dynamic network surgery: leaves `graph` masked, `masks` set.
Status runDns(Graph& graph, const PruneConfig& config, const Recipe& r, const PruneRunOptions& o, MaskSet& masks,
              std::vector<DnsLayerStats>& stats);

}  // namespace topiary::prune_detail
