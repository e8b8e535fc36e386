#include "common/ort_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/test_util.h"
#include "topiary/onnx_io.h"

namespace testutil {
namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string readAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::string ortUnavailableReason() {
  namespace fs = std::filesystem;
  if (!fs::exists(sourcePath("node_modules/onnxruntime-node/package.json")))
    return "node_modules/onnxruntime-node is missing (run scripts/setup.sh)";
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is not on PATH";
  return {};
}

std::vector<OrtReport> runOrtJobs(const std::vector<OrtJob>& jobs) {
  namespace fs = std::filesystem;
  static int batch = 0;
  fs::path dir = fs::path(tempDir()) / ("ort-" + std::to_string(batch++));
  fs::create_directories(dir);
  std::vector<OrtReport> reports(jobs.size());
  auto failAll = [&](const std::string& why) {
    for (auto& r : reports) r.error = why;
    return reports;
  };
  nlohmann::json list = nlohmann::json::array();
  for (size_t j = 0; j < jobs.size(); ++j) {
    fs::path jobDir = dir / std::to_string(j);
    fs::create_directories(jobDir);
    nlohmann::json inputs = nlohmann::json::array();
    for (size_t i = 0; i < jobs[j].inputs.size(); ++i) {
      const auto& in = jobs[j].inputs[i];
      std::string file = (jobDir / ("input_" + std::to_string(i) + ".pb")).string();
      topiary::Status st = topiary::saveTensorProto(in.tensor, in.name, file);
      if (!st) return failAll("writing " + file + ": " + st.message());
      inputs.push_back(in.name + "=" + file);
    }
    list.push_back({{"model", jobs[j].model}, {"inputs", inputs}, {"output_dir", (jobDir / "out").string()},
                    {"threads", jobs[j].threads}, {"warmup", jobs[j].warmup}, {"runs", jobs[j].runs}});
  }
  std::string jobsFile = (dir / "jobs.json").string(), outFile = (dir / "report.json").string(),
              errFile = (dir / "stderr.txt").string();
  std::ofstream(jobsFile) << list.dump();
  std::string cmd = "node " + shellQuote(sourcePath("tools/ort/run.mjs")) + " --jobs " + shellQuote(jobsFile) + " > " +
                    shellQuote(outFile) + " 2> " + shellQuote(errFile);
  int rc = std::system(cmd.c_str());
  if (rc != 0) return failAll("ONNX Runtime runner failed (exit " + std::to_string(rc) + "): " + readAll(errFile));
  nlohmann::json out = nlohmann::json::parse(readAll(outFile), nullptr, false);
  if (!out.is_array() || out.size() != jobs.size()) return failAll("ONNX Runtime runner printed no valid report");
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& r = out[j];
    if (r.contains("error")) {
      reports[j].error = r["error"].get<std::string>();
      continue;
    }
    for (const auto& o : r["outputs"]) {
      auto t = topiary::loadTensorProto(o["file"].get<std::string>());
      if (!t) {
        reports[j].error = "reading ONNX Runtime's output: " + t.status().message();
        break;
      }
      reports[j].outputs.push_back(std::move(t.value()));
    }
    if (r.contains("latency_ms")) {
      reports[j].medianMs = r["latency_ms"]["median"].get<double>();
      reports[j].minMs = r["latency_ms"]["min"].get<double>();
      reports[j].maxMs = r["latency_ms"]["max"].get<double>();
    }
  }
  return reports;
}

OrtReport runOrt(const OrtJob& job) { return runOrtJobs({job}).front(); }

double scaledDiff(const topiary::Tensor& ours, const topiary::Tensor& ref, double* absDiff) {
  *absDiff = std::numeric_limits<double>::infinity();
  if (ours.shape() != ref.shape() || ours.dtype() != ref.dtype()) return std::numeric_limits<double>::infinity();
  auto a = ours.toDoubles(), b = ref.toDoubles();
  double worst = 0, worstAbs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (std::isnan(a[i]) != std::isnan(b[i])) return std::numeric_limits<double>::infinity();
      continue;
    }
    if (std::isinf(b[i]) && a[i] == b[i]) continue;
    double d = std::fabs(a[i] - b[i]);
    worst = std::max(worst, d / std::max(1.0, std::fabs(b[i])));
    worstAbs = std::max(worstAbs, d);
  }
  *absDiff = worstAbs;
  return worst;
}

}  // namespace testutil
