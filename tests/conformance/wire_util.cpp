#include "conformance/wire_util.h"

#include <cstdint>
#include <functional>

namespace conformance {
namespace {

struct Span {
  const uint8_t* p;
  const uint8_t* end;
};

bool readVarint(Span& s, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (s.p >= s.end) return false;
    uint8_t b = *s.p++;
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Calls fn(field, payload) for each length-delimited field of a message;
// skips scalar fields. False on malformed input.
bool forEachMessageField(Span s, const std::function<void(uint64_t, Span)>& fn) {
  while (s.p < s.end) {
    uint64_t key;
    if (!readVarint(s, key)) return false;
    uint64_t field = key >> 3, wire = key & 7, v;
    switch (wire) {
      case 0:
        if (!readVarint(s, v)) return false;
        break;
      case 1:
        if (s.end - s.p < 8) return false;
        s.p += 8;
        break;
      case 5:
        if (s.end - s.p < 4) return false;
        s.p += 4;
        break;
      case 2: {
        if (!readVarint(s, v) || v > uint64_t(s.end - s.p)) return false;
        fn(field, Span{s.p, s.p + v});
        s.p += v;
        break;
      }
      default:
        return false;  // groups are not used by ONNX
    }
  }
  return true;
}

// TypeProto's value oneof: 1 tensor_type, 4 sequence_type, 5 map_type,
// 7 opaque_type, 8 sparse_tensor_type, 9 optional_type (6 is denotation).
const char* typeKind(Span type) {
  const char* kind = nullptr;
  forEachMessageField(type, [&](uint64_t f, Span) {
    switch (f) {
      case 4: kind = "a sequence"; break;
      case 5: kind = "a map"; break;
      case 7: kind = "an opaque value"; break;
      case 8: kind = "a sparse tensor"; break;
      case 9: kind = "an optional"; break;
      default: break;
    }
  });
  return kind;
}

}  // namespace

std::string firstNonTensorIo(const std::string& modelBytes) {
  const auto* b = reinterpret_cast<const uint8_t*>(modelBytes.data());
  std::string found;
  // ModelProto.graph = 7; GraphProto.input = 11, output = 12;
  // ValueInfoProto.name = 1, type = 2.
  forEachMessageField(Span{b, b + modelBytes.size()}, [&](uint64_t f, Span graph) {
    if (f != 7) return;
    forEachMessageField(graph, [&](uint64_t gf, Span vi) {
      if ((gf != 11 && gf != 12) || !found.empty()) return;
      std::string name;
      const char* kind = nullptr;
      forEachMessageField(vi, [&](uint64_t vf, Span v) {
        if (vf == 1) name.assign(reinterpret_cast<const char*>(v.p), static_cast<size_t>(v.end - v.p));
        if (vf == 2) kind = typeKind(v);
      });
      if (kind) found = std::string(gf == 11 ? "input '" : "output '") + name + "' is " + kind;
    });
  });
  return found;
}

}  // namespace conformance
