#include "ops/nn/window.h"

#include <algorithm>

namespace topiary::ops {
namespace {

std::string listToString(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

Status checkPositive(const std::vector<int64_t>& v, const char* op, const char* name) {
  for (int64_t x : v)
    if (x <= 0) return Status::badInput(std::string(op) + " attribute '" + name + "' must be positive, got " + listToString(v));
  return Status::ok();
}

}  // namespace

Status parseAutoPad(const Node& node, const char* op, AutoPad& out) {
  std::string ap = node.attrString("auto_pad", "NOTSET");
  if (ap == "NOTSET" || ap.empty()) out = AutoPad::NotSet;
  else if (ap == "SAME_UPPER") out = AutoPad::SameUpper;
  else if (ap == "SAME_LOWER") out = AutoPad::SameLower;
  else if (ap == "VALID") out = AutoPad::Valid;
  else return Status::badInput(std::string(op) + " attribute 'auto_pad' has unknown value '" + ap + "'");
  return Status::ok();
}

Status parseWindowAttrs(const Node& node, const char* op, bool kernelRequired, WindowAttrs& w) {
  w.kernel = node.attrInts("kernel_shape");
  w.strides = node.attrInts("strides");
  w.dilations = node.attrInts("dilations");
  w.pads = node.attrInts("pads");
  w.ceilMode = node.attrInt("ceil_mode", 0) != 0;
  TOPIARY_RETURN_IF_ERROR(parseAutoPad(node, op, w.autoPad));
  if (kernelRequired && w.kernel.empty())
    return Status::badInput(std::string(op) + " needs the attribute 'kernel_shape'");
  TOPIARY_RETURN_IF_ERROR(checkPositive(w.kernel, op, "kernel_shape"));
  TOPIARY_RETURN_IF_ERROR(checkPositive(w.strides, op, "strides"));
  TOPIARY_RETURN_IF_ERROR(checkPositive(w.dilations, op, "dilations"));
  for (int64_t p : w.pads)
    if (p < 0) return Status::badInput(std::string(op) + " attribute 'pads' must be non-negative, got " + listToString(w.pads));
  size_t nd = w.kernel.size();
  if (nd == 0) nd = !w.strides.empty() ? w.strides.size() : !w.dilations.empty() ? w.dilations.size() : w.pads.size() / 2;
  if (nd > 3) return Status::unsupported(std::string(op) + " with " + std::to_string(nd) + " spatial axes (at most 3 supported)");
  auto checkLen = [&](const std::vector<int64_t>& v, size_t n, const char* name) {
    if (!v.empty() && nd > 0 && v.size() != n)
      return Status::badInput(std::string(op) + " attribute '" + name + "' has " + std::to_string(v.size()) +
                              " entries, expected " + std::to_string(n));
    return Status::ok();
  };
  TOPIARY_RETURN_IF_ERROR(checkLen(w.strides, nd, "strides"));
  TOPIARY_RETURN_IF_ERROR(checkLen(w.dilations, nd, "dilations"));
  TOPIARY_RETURN_IF_ERROR(checkLen(w.pads, 2 * nd, "pads"));
  return Status::ok();
}

Shape Window::outShape(Shape prefix) const {
  for (int i = 3 - nd; i < 3; ++i) prefix.push_back(out[static_cast<size_t>(i)]);
  return prefix;
}

const Shape& Window::outShapeInto(int64_t n, int64_t c, Shape& buf) const {
  buf.assign({n, c});
  for (int i = 3 - nd; i < 3; ++i) buf.push_back(out[static_cast<size_t>(i)]);
  return buf;
}

Status resolveWindow(const WindowAttrs& a, const char* op, const Shape& inSpatial, const std::vector<int64_t>& kernel,
                     Window& w) {
  return resolveWindow(a, op, inSpatial.data(), inSpatial.size(), kernel.data(), kernel.size(), w);
}

Status resolveWindow(const WindowAttrs& a, const char* op, const int64_t* inSpatial, size_t nd, const int64_t* kernel,
                     size_t nk, Window& w) {
  if (nd < 1 || nd > 3)
    return Status::unsupported(std::string(op) + " on an input with " + std::to_string(nd) +
                               " spatial axes (1 to 3 supported)");
  if (nk != nd)
    return Status::badInput(std::string(op) + " kernel has " + std::to_string(nk) +
                            " spatial axes but the input has " + std::to_string(nd));
  auto fits = [&](const std::vector<int64_t>& v, size_t n) { return v.empty() || v.size() == n; };
  if (!fits(a.strides, nd) || !fits(a.dilations, nd) || !fits(a.pads, 2 * nd))
    return Status::badInput(std::string(op) + " attributes do not match the input's " + std::to_string(nd) + " spatial axes");
  w = Window{};
  w.nd = static_cast<int>(nd);
  size_t off = 3 - nd;
  for (size_t i = 0; i < nd; ++i) {
    size_t j = off + i;
    w.in[j] = inSpatial[i];
    w.k[j] = kernel[i];
    w.s[j] = a.strides.empty() ? 1 : a.strides[i];
    w.d[j] = a.dilations.empty() ? 1 : a.dilations[i];
    int64_t extent = w.d[j] * (w.k[j] - 1) + 1;  // receptive field of one output
    if (w.in[j] <= 0) return Status::badInput(std::string(op) + " input has an empty spatial axis");
    switch (a.autoPad) {
      case AutoPad::NotSet: {
        w.padBegin[j] = a.pads.empty() ? 0 : a.pads[i];
        w.padEnd[j] = a.pads.empty() ? 0 : a.pads[i + nd];
        int64_t span = w.in[j] + w.padBegin[j] + w.padEnd[j] - extent;
        if (span < 0)
          return Status::badInput(std::string(op) + " window " + std::to_string(extent) + " is larger than the padded input " +
                                  std::to_string(w.in[j] + w.padBegin[j] + w.padEnd[j]));
        w.out[j] = (a.ceilMode ? (span + w.s[j] - 1) / w.s[j] : span / w.s[j]) + 1;
        // With ceil_mode the last window must still start inside the input or the begin padding.
        if (a.ceilMode && (w.out[j] - 1) * w.s[j] >= w.in[j] + w.padBegin[j]) --w.out[j];
        break;
      }
      case AutoPad::Valid: {
        if (w.in[j] < extent)
          return Status::badInput(std::string(op) + " window " + std::to_string(extent) + " is larger than the input " +
                                  std::to_string(w.in[j]));
        w.out[j] = (w.in[j] - extent) / w.s[j] + 1;
        break;
      }
      case AutoPad::SameUpper:
      case AutoPad::SameLower: {
        w.out[j] = (w.in[j] + w.s[j] - 1) / w.s[j];
        int64_t total = std::max<int64_t>(0, (w.out[j] - 1) * w.s[j] + extent - w.in[j]);
        // The odd padding element goes to the end (SAME_UPPER) or the beginning (SAME_LOWER).
        w.padBegin[j] = a.autoPad == AutoPad::SameUpper ? total / 2 : total - total / 2;
        w.padEnd[j] = total - w.padBegin[j];
        break;
      }
    }
  }
  return Status::ok();
}

}  // namespace topiary::ops
