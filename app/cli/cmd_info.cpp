// topiary-cli info MODEL: layers, params, nonzero params, FLOPs, per layer.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "topiary/metrics.h"
#include "topiary/onnx_io.h"

namespace cli {

int cmdInfo(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  int code = 0;
  if (!parseArgs(p, args, "Print a model's layers, parameters, nonzeros and FLOPs.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("info takes exactly one MODEL argument");
  std::string path = str(p.positionalArguments()[0]);
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  auto m = topiary::measureModel(g.value());
  if (!m) return fail(m.status().withContext(path));
  if (p.isSet("json")) {
    nlohmann::json j = topiary::metricsToJson(m.value());
    j["model"] = path;
    j["opset"] = g->opset();
    j["producer"] = g->producerName;
    nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
    for (const auto& v : g->inputs) ins.push_back({{"name", v.name}, {"shape", v.shapeString()}, {"type", topiary::dtypeName(v.dtype)}});
    for (const auto& v : g->outputs) outs.push_back({{"name", v.name}, {"shape", v.shapeString()}, {"type", topiary::dtypeName(v.dtype)}});
    j["inputs"] = ins;
    j["outputs"] = outs;
    printJson(j);
    return 0;
  }
  std::printf("model     %s (opset %lld, producer '%s')\n", path.c_str(), static_cast<long long>(g->opset()),
              g->producerName.c_str());
  for (const auto& v : g->inputs) std::printf("input     %s %s %s\n", v.name.c_str(), topiary::dtypeName(v.dtype), v.shapeString().c_str());
  for (const auto& v : g->outputs) std::printf("output    %s %s %s\n", v.name.c_str(), topiary::dtypeName(v.dtype), v.shapeString().c_str());
  std::printf("\n%-28s %-20s %-18s %10s %10s %10s\n", "layer", "op", "output", "params", "nonzero", "FLOPs");
  for (const auto& l : m->layers)
    std::printf("%-28s %-20s %-18s %10s %10s %10s\n", l.name.substr(0, 28).c_str(), l.op.c_str(), l.outputShape.c_str(),
                humanCount(static_cast<double>(l.params)).c_str(), humanCount(static_cast<double>(l.nonzeroParams)).c_str(),
                humanCount(l.flops).c_str());
  std::printf("\ntotal: %lld params, %lld nonzero (%.1f%%), %s FLOPs, %s on disk\n", static_cast<long long>(m->params),
              static_cast<long long>(m->nonzeroParams),
              m->params ? 100.0 * static_cast<double>(m->nonzeroParams) / static_cast<double>(m->params) : 0.0,
              humanCount(m->flops).c_str(), humanBytes(static_cast<double>(m->sizeBytes)).c_str());
  if (!m->flopsUnknown.empty()) std::printf("FLOPs and output shapes unknown: %s\n", m->flopsUnknown.c_str());
  return 0;
}

}  // namespace cli
