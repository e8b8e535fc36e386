#include "data/idx_reader.h"

#include <zlib.h>

#include <cstdio>

#include "topiary/file_util.h"

namespace topiary::data {

Result<std::string> maybeGunzip(const std::string& bytes, const std::string& path, uint64_t maxBytes) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0x1f || static_cast<uint8_t>(bytes[1]) != 0x8b)
    return bytes;
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::internal("zlib failed to initialise");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char chunk[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::badInput(path + " is not a valid gzip file (corrupt or truncated)");
    }
    out.append(chunk, sizeof(chunk) - zs.avail_out);
    if (out.size() > maxBytes) {
      inflateEnd(&zs);
      return Status::badInput(path + " decompresses to more than " + std::to_string(maxBytes) + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status::badInput(path + " is a truncated gzip file");
    }
  }
  inflateEnd(&zs);
  return out;
}

Result<IdxArray> readIdx(const std::string& path, int expectedRank) {
  const uint64_t kMax = uint64_t(2) << 30;
  auto raw = readFile(path, kMax);
  if (!raw) return raw.status();
  auto bytes = maybeGunzip(raw.value(), path, kMax);
  if (!bytes) return bytes.status();
  const std::string& b = bytes.value();
  if (b.size() < 4) return Status::badInput(path + " is too short to be an IDX file");
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  // Magic: two zero bytes, the element type (0x08 = unsigned byte), the rank.
  if (u8(0) != 0 || u8(1) != 0) return Status::badInput(path + " is not an IDX file (bad magic number)");
  if (u8(2) != 0x08) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", u8(2));
    return Status::unsupported(path + " holds IDX type " + type + "; only unsigned-byte (0x08) IDX files are supported");
  }
  int rank = u8(3);
  if (rank != expectedRank)
    return Status::badInput(path + " has " + std::to_string(rank) + " dimensions, expected " +
                            std::to_string(expectedRank));
  size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (b.size() < header) return Status::badInput(path + " is truncated inside its header");
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < rank; ++d) {
    size_t o = 4 + 4 * static_cast<size_t>(d);
    uint64_t v = (uint64_t(u8(o)) << 24) | (uint64_t(u8(o + 1)) << 16) | (uint64_t(u8(o + 2)) << 8) | u8(o + 3);
    if (v == 0 && d > 0) return Status::badInput(path + " has a zero-sized dimension " + std::to_string(d));
    total *= v;
    if (total > kMax) return Status::badInput(path + " declares dimensions too large to load");
    a.dims.push_back(static_cast<int64_t>(v));
  }
  if (b.size() - header != total)
    return Status::badInput(path + " holds " + std::to_string(b.size() - header) + " data bytes but its header declares " +
                            std::to_string(total) + (b.size() - header < total ? " (truncated)" : ""));
  a.values.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());
  return a;
}

}  // namespace topiary::data
