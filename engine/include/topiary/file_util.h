// File helpers with the project's safety rules: reads are bounded, writes are
// atomic (temp file in the same folder, fsync, rename), so an interrupted
// write leaves either the old file or the new one, never a torn one (and, on
// Linux file systems with O_TMPFILE, no partial temp file either).
#pragma once

#include <cstdint>
#include <string>

#include "topiary/status.h"

namespace topiary {

// Reads a whole file. Fails with BadInput when it is missing, unreadable or
// larger than maxBytes.
Result<std::string> readFile(const std::string& path, uint64_t maxBytes = (uint64_t(4) << 30));

// Writes bytes to path atomically. Refuses to write over `protect` when given
// (the user's source model), comparing canonical paths.
Status writeFileAtomic(const std::string& path, const std::string& bytes,
                       const std::string& protect = std::string());

// What writeFileAtomic checks before writing, for callers that should
// refuse a bad path before long work: not empty, not a folder, in a folder
// that exists, not `protect`. BadInput naming the problem.
Status checkOutputPath(const std::string& path, const std::string& protect = std::string());

// True when both paths name the same existing file.
bool sameFile(const std::string& a, const std::string& b);

}  // namespace topiary
