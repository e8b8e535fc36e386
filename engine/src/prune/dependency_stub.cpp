// Temporary stubs so dependency.h links while the implementation lands.
#include "topiary/dependency.h"

namespace topiary {


Result<std::vector<double>> groupImportance(const Graph&, const DependencyGroup&, const ImportanceOptions&) {
  return Status::unsupported("group importance is not implemented yet");
}
std::vector<int64_t> lowestChannels(const std::vector<double>&, int64_t) { return {}; }
Status maskGroupChannels(Graph&, const DependencyGroup&, const std::vector<int64_t>&) {
  return Status::unsupported("group masks are not implemented yet");
}
Status pruneGroupChannels(Graph&, const DependencyGroup&, const std::vector<int64_t>&) {
  return Status::unsupported("group surgery is not implemented yet");
}
Result<int64_t> pruneAllGroups(Graph&, double, const ImportanceOptions&,
                               const std::function<bool(const DependencyGroup&)>&) {
  return Status::unsupported("group surgery is not implemented yet");
}
Status checkLayerRemoval(const Graph&, const std::string&) {
  return Status::unsupported("layer removal is not implemented yet");
}
Status removeLayer(Graph&, const std::string&) { return Status::unsupported("layer removal is not implemented yet"); }
std::vector<std::string> removableLayers(const Graph&) { return {}; }

}  // namespace topiary
