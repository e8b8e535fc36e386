#include "common/test_util.h"

#include "topiary/arch.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace testutil {

std::string sourcePath(const std::string& rel) { return std::string(TOPIARY_SOURCE_DIR) + "/" + rel; }

topiary::Graph architecture(const std::string& name) {
  auto g = topiary::buildArchitecture(name);
  if (!g) {
    std::fprintf(stderr, "architecture %s: %s\n", name.c_str(), g.status().message().c_str());
    std::abort();
  }
  return std::move(g.value());
}

std::string tempDir() {
  static std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("topiary-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

double maxAbsDiff(const topiary::Tensor& a, const topiary::Tensor& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  auto va = a.toDoubles(), vb = b.toDoubles();
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) != std::isnan(vb[i])) return std::numeric_limits<double>::infinity();
    if (!std::isnan(va[i])) m = std::max(m, std::fabs(va[i] - vb[i]));
  }
  return m;
}

double weightDiff(const topiary::Graph& a, const topiary::Graph& b) {
  if (a.initializers.size() != b.initializers.size()) return -1;
  double d = 0;
  for (const auto& kv : a.initializers) {
    auto it = b.initializers.find(kv.first);
    if (it == b.initializers.end()) return -1;
    d = std::max(d, maxAbsDiff(kv.second, it->second));
  }
  return d;
}

bool allClose(const topiary::Tensor& actual, const topiary::Tensor& expected, double rtol, double atol, std::string* why) {
  if (actual.shape() != expected.shape()) {
    if (why) *why = "shape " + topiary::shapeToString(actual.shape()) + " != expected " + topiary::shapeToString(expected.shape());
    return false;
  }
  auto va = actual.toDoubles(), vb = expected.toDoubles();
  for (size_t i = 0; i < va.size(); ++i) {
    bool bothNan = std::isnan(va[i]) && std::isnan(vb[i]);
    bool bothInf = std::isinf(va[i]) && std::isinf(vb[i]) && (va[i] > 0) == (vb[i] > 0);
    if (bothNan || bothInf) continue;
    if (!(std::fabs(va[i] - vb[i]) <= atol + rtol * std::fabs(vb[i]))) {
      if (why) *why = "element " + std::to_string(i) + ": got " + std::to_string(va[i]) + ", expected " + std::to_string(vb[i]);
      return false;
    }
  }
  return true;
}

namespace {

// Builds an executor, runs it with `run`, collects the outputs.
template <typename Run>
std::vector<topiary::Tensor> runWith(const topiary::Graph& g, const topiary::ExecutorOptions& options, std::string* why,
                                     Run&& run) {
  auto ex = topiary::Executor::create(g, options);
  if (!ex) {
    *why = ex.status().message();
    return {};
  }
  topiary::Status st = run(**ex);
  if (!st) {
    *why = st.message();
    return {};
  }
  std::vector<topiary::Tensor> out;
  for (size_t i = 0; i < (*ex)->outputCount(); ++i) out.push_back((*ex)->output(i));
  return out;
}

}  // namespace

std::vector<topiary::Tensor> runOurs(const topiary::Graph& g, const std::vector<topiary::NamedTensor>& inputs,
                                     const topiary::ExecutorOptions& options, std::string* why) {
  std::vector<std::pair<std::string, const topiary::Tensor*>> feed;
  for (const auto& in : inputs) feed.emplace_back(in.name, &in.tensor);
  return runWith(g, options, why, [&](topiary::Executor& ex) { return ex.run(feed); });
}

std::vector<topiary::Tensor> runOurs(const topiary::Graph& g, const topiary::Tensor& input,
                                     const topiary::ExecutorOptions& options, std::string* why) {
  return runWith(g, options, why, [&](topiary::Executor& ex) { return ex.run(input); });
}

int countLines(const std::vector<std::string>& log, const std::string& needle) {
  int n = 0;
  for (const auto& line : log) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace testutil
