// Training throughput: images/s for one epoch (or --images N) of lenet5 and
// resnet8 on Fashion-MNIST with 1 and 2 threads. Prints the median of
// --repeats runs and the 2-thread/1-thread ratio.
//   bench_train [--images N] [--repeats R] [--arch NAME ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/train.h"

using namespace topiary;

int main(int argc, char** argv) {
  int64_t images = 0;  // 0: the whole training split
  int repeats = 1;
  std::vector<std::string> archs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--images") && i + 1 < argc) images = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--arch") && i + 1 < argc) archs.push_back(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_train [--images N] [--repeats R] [--arch NAME ...]\n");
      return 2;
    }
  }
  if (archs.empty()) archs = {"lenet5", "resnet8"};
  DatasetOptions dopt;
  dopt.limit = images;
  auto data = loadDataset("fashion-mnist:train", dopt);
  if (!data) {
    std::fprintf(stderr, "error: %s\n", data.status().message().c_str());
    return 2;
  }
  std::printf("%-14s %8s %8s %14s %10s\n", "arch", "threads", "images", "images/s (med)", "vs 1 thr");
  for (const auto& name : archs) {
    double single = 0;
    for (int threads : {1, 2}) {
      std::vector<double> rates;
      for (int r = 0; r < repeats; ++r) {
        auto g = buildArchitecture(name);
        if (!g) {
          std::fprintf(stderr, "error: %s\n", g.status().message().c_str());
          return 2;
        }
        TrainOptions o;
        o.threads = threads;
        o.batchSize = 64;
        o.optimizer = "sgd";
        auto t0 = std::chrono::steady_clock::now();
        Status st = train(g.value(), data.value(), o);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.isOk()) {
          std::fprintf(stderr, "error: %s\n", st.message().c_str());
          return 1;
        }
        rates.push_back(static_cast<double>(data->size() / 64 * 64) / secs);
      }
      std::sort(rates.begin(), rates.end());
      double med = rates[rates.size() / 2];
      if (threads == 1) single = med;
      std::printf("%-14s %8d %8lld %14.0f %9.2fx\n", name.c_str(), threads, static_cast<long long>(data->size()), med,
                  single > 0 ? med / single : 1.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
