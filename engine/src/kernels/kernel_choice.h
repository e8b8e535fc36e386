// Kernels that pick between implementations (dense GEMM, CSR, N:M) report
// which one they run, so the executor can show it per layer.
#pragma once

#include <string>

namespace topiary::kernels {

class KernelChoice {
 public:
  virtual ~KernelChoice() = default;
  // "dense", "csr", "2:4", ...; empty before the first run.
  virtual std::string kernelChoice() const = 0;
};

}  // namespace topiary::kernels
