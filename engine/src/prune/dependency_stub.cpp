// Temporary stubs so dependency.h links while the implementation lands.
#include "topiary/dependency.h"

namespace topiary {


Status checkLayerRemoval(const Graph&, const std::string&) {
  return Status::unsupported("layer removal is not implemented yet");
}
Status removeLayer(Graph&, const std::string&) { return Status::unsupported("layer removal is not implemented yet"); }
std::vector<std::string> removableLayers(const Graph&) { return {}; }

}  // namespace topiary
