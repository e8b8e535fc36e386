// IDX files (the MNIST/Fashion-MNIST container), gzipped or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topiary/status.h"

namespace topiary::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // unsigned-byte payload (the only type MNIST files use)
};

// Reads an IDX file of unsigned bytes with `expectedRank` dimensions. The
// file may be gzip-compressed (detected by its magic). Errors name the file.
Result<IdxArray> readIdx(const std::string& path, int expectedRank);

// Decompresses gzip bytes (or returns them unchanged when not gzipped).
Result<std::string> maybeGunzip(const std::string& bytes, const std::string& path, uint64_t maxBytes);

}  // namespace topiary::data
