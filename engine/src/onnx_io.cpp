#include "topiary/onnx_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "topiary/file_util.h"

namespace topiary {
namespace {

struct LoadState {
  const LoadLimits& limits;
  std::string externalDir;
  uint64_t totalBytes = 0;
};

Status checkDims(const google::protobuf::RepeatedField<int64_t>& dims, Shape& shape, const std::string& what) {
  shape.clear();
  for (int64_t d : dims) {
    if (d < 0) return Status::badInput(what + " has a negative dimension (" + std::to_string(d) + ")");
    shape.push_back(d);
  }
  auto n = checkedNumel(shape);
  if (!n) return n.status().withContext(what);
  return Status::ok();
}

template <class Src, class Dst>
void copyField(const google::protobuf::RepeatedField<Src>& src, Dst* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(src.Get(static_cast<int>(i)));
}

Status readExternal(const onnx::TensorProto& tp, LoadState& st, std::string& out) {
  std::string what = "tensor '" + tp.name() + "'";
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      // Strict parse: atoll would turn "abc" into 0 and overflow silently.
      int64_t v = 0;
      const char* end = kv.value().data() + kv.value().size();
      auto r = std::from_chars(kv.value().data(), end, v);
      if (r.ec != std::errc() || r.ptr != end || v < 0)
        return Status::badInput(what + ": external data " + kv.key() + " '" + kv.value() + "' is not a valid byte count");
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (st.externalDir.empty())
    return Status::badInput(what + " stores its data in an external file, which is not allowed here");
  if (location.empty()) return Status::badInput(what + " has external data without a location");
  namespace fs = std::filesystem;
  fs::path rel(location);
  if (rel.is_absolute()) return Status::badInput(what + ": external data path '" + location + "' is absolute");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(st.externalDir), ec);
  fs::path full = fs::weakly_canonical(base / rel, ec);
  auto mismatch = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (ec || mismatch.first != base.end())
    return Status::badInput(what + ": external data path '" + location + "' leaves the model's folder");
  auto bytes = readFile(full.string(), st.limits.maxTensorBytes + static_cast<uint64_t>(std::max<int64_t>(offset, 0)));
  if (!bytes) return bytes.status().withContext(what);
  if (offset < 0 || static_cast<uint64_t>(offset) > bytes->size())
    return Status::badInput(what + ": external data offset is out of range");
  size_t avail = bytes->size() - static_cast<size_t>(offset);
  size_t len = length < 0 ? avail : static_cast<size_t>(length);
  if (len > avail) return Status::badInput(what + ": external data is shorter than its declared length");
  out = bytes->substr(static_cast<size_t>(offset), len);
  return Status::ok();
}

Result<Tensor> tensorFromProto(const onnx::TensorProto& tp, LoadState& st) {
  std::string what = "tensor '" + tp.name() + "'";
  DType dt = static_cast<DType>(tp.data_type());
  if (!dtypeSupported(dt))
    return Status::unsupported(what + " has data type " + std::to_string(tp.data_type()) +
                               " (" + dtypeName(dt) + "), which the engine does not handle");
  if (tp.has_segment()) return Status::unsupported(what + " is segmented");
  Shape shape;
  TOPIARY_RETURN_IF_ERROR(checkDims(tp.dims(), shape, what));
  int64_t n = numelOf(shape);
  // Compare element counts first: count * size can wrap around in 64 bits.
  if (static_cast<uint64_t>(n) > st.limits.maxTensorBytes / dtypeSize(dt)) {
    long double bytes = static_cast<long double>(n) * static_cast<long double>(dtypeSize(dt));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0Lf", bytes);
    return Status::badInput(what + " of shape " + shapeToString(shape) + " would need " + buf +
                            " bytes, over the limit of " + std::to_string(st.limits.maxTensorBytes));
  }
  uint64_t need = static_cast<uint64_t>(n) * dtypeSize(dt);
  st.totalBytes += need;
  if (st.totalBytes > st.limits.maxTotalBytes)
    return Status::badInput("the model's weights would need more than " + std::to_string(st.limits.maxTotalBytes) +
                            " bytes");

  std::string external;
  const std::string* raw = nullptr;
  if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
    TOPIARY_RETURN_IF_ERROR(readExternal(tp, st, external));
    raw = &external;
  } else if (tp.has_raw_data()) {
    raw = &tp.raw_data();
  }
  // Count check before allocating for the typed fields.
  auto typedCount = [&]() -> int64_t {
    switch (dt) {
      case DType::Float: return tp.float_data_size();
      case DType::Double: return tp.double_data_size();
      case DType::Int64: return tp.int64_data_size();
      case DType::UInt32: case DType::UInt64: return tp.uint64_data_size();
      default: return tp.int32_data_size();
    }
  };
  if (raw) {
    if (raw->size() != need)
      return Status::badInput(what + " of shape " + shapeToString(shape) + " needs " + std::to_string(need) +
                              " bytes of data but holds " + std::to_string(raw->size()));
  } else if (typedCount() != n) {
    return Status::badInput(what + " of shape " + shapeToString(shape) + " holds " + std::to_string(typedCount()) +
                            " values instead of " + std::to_string(n));
  }
  Tensor t(dt, shape);
  if (raw) {
    if (need) std::memcpy(t.raw(), raw->data(), need);
    return t;
  }
  switch (dt) {
    case DType::Float: copyField(tp.float_data(), t.data<float>(), n); break;
    case DType::Double: copyField(tp.double_data(), t.data<double>(), n); break;
    case DType::Int64: copyField(tp.int64_data(), t.data<int64_t>(), n); break;
    case DType::UInt32: copyField(tp.uint64_data(), t.data<uint32_t>(), n); break;
    case DType::UInt64: copyField(tp.uint64_data(), t.data<uint64_t>(), n); break;
    case DType::Int32: copyField(tp.int32_data(), t.data<int32_t>(), n); break;
    case DType::Int16: copyField(tp.int32_data(), t.data<int16_t>(), n); break;
    case DType::Int8: copyField(tp.int32_data(), t.data<int8_t>(), n); break;
    case DType::UInt16: case DType::Float16: copyField(tp.int32_data(), t.data<uint16_t>(), n); break;
    case DType::UInt8: case DType::Bool: copyField(tp.int32_data(), t.data<uint8_t>(), n); break;
    default: break;
  }
  return t;
}

void tensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto& tp) {
  tp.set_name(name);
  tp.set_data_type(static_cast<int>(t.dtype()));
  for (int64_t d : t.shape()) tp.add_dims(d);
  tp.set_raw_data(std::string(static_cast<const char*>(t.raw()), t.bytes()));
}

Result<ValueInfo> valueInfoFromProto(const onnx::ValueInfoProto& vp) {
  ValueInfo v;
  v.name = vp.name();
  if (vp.has_type() && vp.type().has_tensor_type()) {
    const auto& tt = vp.type().tensor_type();
    v.dtype = static_cast<DType>(tt.elem_type());
    if (tt.has_shape()) {
      v.hasShape = true;
      for (const auto& d : tt.shape().dim()) {
        Dim dim;
        if (d.has_dim_value()) {
          if (d.dim_value() < 0)
            return Status::badInput("value '" + vp.name() + "' declares a negative dimension");
          dim.value = d.dim_value();
        } else if (d.has_dim_param()) {
          dim.param = d.dim_param();
        }
        v.dims.push_back(dim);
      }
    }
  }
  return v;
}

void valueInfoToProto(const ValueInfo& v, onnx::ValueInfoProto& vp) {
  vp.set_name(v.name);
  auto* tt = vp.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int>(v.dtype));
  if (v.hasShape) {
    auto* sh = tt->mutable_shape();
    for (const Dim& d : v.dims) {
      auto* dp = sh->add_dim();
      if (d.value >= 0) dp->set_dim_value(d.value);
      else if (!d.param.empty()) dp->set_dim_param(d.param);
    }
  }
}

Result<Attribute> attributeFromProto(const onnx::AttributeProto& ap, LoadState& st, const std::string& nodeLabel) {
  Attribute a;
  using AP = onnx::AttributeProto;
  switch (ap.type()) {
    case AP::FLOAT: a.type = Attribute::Type::Float; a.f = ap.f(); break;
    case AP::INT: a.type = Attribute::Type::Int; a.i = ap.i(); break;
    case AP::STRING: a.type = Attribute::Type::String; a.s = ap.s(); break;
    case AP::TENSOR: {
      a.type = Attribute::Type::Tensor;
      auto t = tensorFromProto(ap.t(), st);
      if (!t) return t.status().withContext("node '" + nodeLabel + "' attribute '" + ap.name() + "'");
      a.t = std::move(t.value());
      break;
    }
    case AP::FLOATS: a.type = Attribute::Type::Floats; a.floats.assign(ap.floats().begin(), ap.floats().end()); break;
    case AP::INTS: a.type = Attribute::Type::Ints; a.ints.assign(ap.ints().begin(), ap.ints().end()); break;
    case AP::STRINGS: a.type = Attribute::Type::Strings; a.strings.assign(ap.strings().begin(), ap.strings().end()); break;
    case AP::GRAPH: case AP::GRAPHS:
      a.type = Attribute::Type::Graph;  // subgraphs are not executed; kept as a marker
      break;
    default:
      // Attributes from before the 'type' field: infer from what is set.
      if (ap.has_f()) { a.type = Attribute::Type::Float; a.f = ap.f(); }
      else if (ap.has_i()) { a.type = Attribute::Type::Int; a.i = ap.i(); }
      else if (ap.has_s()) { a.type = Attribute::Type::String; a.s = ap.s(); }
      else if (ap.ints_size()) { a.type = Attribute::Type::Ints; a.ints.assign(ap.ints().begin(), ap.ints().end()); }
      else if (ap.floats_size()) { a.type = Attribute::Type::Floats; a.floats.assign(ap.floats().begin(), ap.floats().end()); }
      break;
  }
  return a;
}

void attributeToProto(const std::string& name, const Attribute& a, onnx::AttributeProto& ap) {
  using AP = onnx::AttributeProto;
  ap.set_name(name);
  switch (a.type) {
    case Attribute::Type::Float: ap.set_type(AP::FLOAT); ap.set_f(a.f); break;
    case Attribute::Type::Int: ap.set_type(AP::INT); ap.set_i(a.i); break;
    case Attribute::Type::String: ap.set_type(AP::STRING); ap.set_s(a.s); break;
    case Attribute::Type::Tensor: ap.set_type(AP::TENSOR); tensorToProto(a.t, "", *ap.mutable_t()); break;
    case Attribute::Type::Floats: ap.set_type(AP::FLOATS); for (float f : a.floats) ap.add_floats(f); break;
    case Attribute::Type::Ints: ap.set_type(AP::INTS); for (int64_t i : a.ints) ap.add_ints(i); break;
    case Attribute::Type::Strings: ap.set_type(AP::STRINGS); for (const auto& s : a.strings) ap.add_strings(s); break;
    default: break;
  }
}

// Input and output counts against ONNX's own schema for the node's operator
// at the model's opset, and required (non-optional) slots not left empty:
// kernels index their inputs and outputs by position and may rely on this.
// Operators ONNX does not know are left to the executor, which names them.
Status checkArity(const onnx::NodeProto& np, int64_t opset, const std::string& label) {
  std::string domain = np.domain() == "ai.onnx" ? "" : np.domain();
  if (!domain.empty()) return Status::ok();
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(np.op_type(), static_cast<int>(std::min<int64_t>(opset, INT32_MAX)), domain);
  if (!schema) return Status::ok();
  std::string what = "node '" + label + "' (" + np.op_type() + ", opset " + std::to_string(opset) + ")";
  auto range = [](int lo, int hi) {
    return hi == std::numeric_limits<int>::max() ? "at least " + std::to_string(lo)
                                                 : std::to_string(lo) + " to " + std::to_string(hi);
  };
  if (np.input_size() < schema->min_input() || np.input_size() > schema->max_input())
    return Status::badInput(what + " has " + std::to_string(np.input_size()) + " inputs; the operator takes " +
                            range(schema->min_input(), schema->max_input()));
  if (np.output_size() < schema->min_output() || np.output_size() > schema->max_output())
    return Status::badInput(what + " has " + std::to_string(np.output_size()) + " outputs; the operator has " +
                            range(schema->min_output(), schema->max_output()));
  const auto& formalIn = schema->inputs();
  for (int i = 0; i < np.input_size() && i < static_cast<int>(formalIn.size()); ++i)
    if (np.input(i).empty() && formalIn[static_cast<size_t>(i)].GetOption() != onnx::OpSchema::Optional)
      return Status::badInput(what + " leaves its required input " + std::to_string(i) + " ('" +
                              formalIn[static_cast<size_t>(i)].GetName() + "') empty");
  const auto& formalOut = schema->outputs();
  for (int i = 0; i < np.output_size() && i < static_cast<int>(formalOut.size()); ++i)
    if (np.output(i).empty() && formalOut[static_cast<size_t>(i)].GetOption() != onnx::OpSchema::Optional)
      return Status::badInput(what + " leaves its required output " + std::to_string(i) + " ('" +
                              formalOut[static_cast<size_t>(i)].GetName() + "') empty");
  return Status::ok();
}

Result<Graph> graphFromProto(const onnx::ModelProto& mp, LoadState& st) {
  if (!mp.has_graph()) return Status::badInput("the file holds no graph (is it an ONNX model?)");
  const auto& gp = mp.graph();
  if (gp.node_size() > st.limits.maxNodes)
    return Status::badInput("the graph has " + std::to_string(gp.node_size()) + " nodes, over the limit of " +
                            std::to_string(st.limits.maxNodes));
  Graph g;
  g.name = gp.name().empty() ? "graph" : gp.name();
  g.irVersion = mp.ir_version();
  g.producerName = mp.producer_name();
  g.producerVersion = mp.producer_version();
  g.docString = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) g.metadata.emplace_back(kv.key(), kv.value());
  g.opsetImports.clear();
  for (const auto& o : mp.opset_import()) g.opsetImports.push_back({o.domain(), o.version()});
  if (g.opsetImports.empty()) g.opsetImports.push_back({"", 1});

  for (const auto& tp : gp.initializer()) {
    if (tp.name().empty()) return Status::badInput("an initializer has no name");
    if (g.initializers.count(tp.name())) return Status::badInput("initializer '" + tp.name() + "' is defined twice");
    auto t = tensorFromProto(tp, st);
    if (!t) return t.status();
    g.initializers.emplace(tp.name(), std::move(t.value()));
  }
  if (gp.sparse_initializer_size() > 0) return Status::unsupported("sparse initializers are not supported");
  for (const auto& vp : gp.input()) {
    if (g.initializers.count(vp.name())) continue;  // IR < 4 lists weights as inputs too
    auto v = valueInfoFromProto(vp);
    if (!v) return v.status();
    g.inputs.push_back(std::move(v.value()));
  }
  for (const auto& vp : gp.output()) {
    auto v = valueInfoFromProto(vp);
    if (!v) return v.status();
    g.outputs.push_back(std::move(v.value()));
  }
  for (const auto& vp : gp.value_info()) {
    auto v = valueInfoFromProto(vp);
    if (!v) return v.status();
    g.valueInfo[vp.name()] = std::move(v.value());
  }
  g.nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (const auto& np : gp.node()) {
    Node n;
    n.name = np.name();
    n.opType = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    if (n.opType.empty()) return Status::badInput("a node ('" + n.name + "') has no operator type");
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& ap : np.attribute()) {
      auto a = attributeFromProto(ap, st, n.label());
      if (!a) return a.status();
      n.attrs[ap.name()] = std::move(a.value());
    }
    TOPIARY_RETURN_IF_ERROR(checkArity(np, g.opset(), n.label()));
    g.nodes.push_back(std::move(n));
  }
  TOPIARY_RETURN_IF_ERROR(g.validate());
  return g;
}

// Nesting deeper than this (subgraph in subgraph ...) is refused: protobuf
// parses recursively, so a depth bomb would otherwise exhaust the stack.
constexpr int kMaxNesting = 64;

bool parseBounded(google::protobuf::MessageLite& msg, const std::string& bytes) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetRecursionLimit(kMaxNesting);
  in.SetTotalBytesLimit(static_cast<int>(std::min<size_t>(bytes.size() + 1, INT32_MAX)));
  return msg.ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

}  // namespace

Result<Graph> loadModelFromBytes(const std::string& bytes, const std::string& externalDataDir, const LoadLimits& limits) {
  if (bytes.empty()) return Status::badInput("the model file is empty");
  if (bytes.size() >= static_cast<size_t>(INT32_MAX))
    return Status::unsupported("model files of 2 GiB or more must keep their weights as external data");
  onnx::ModelProto mp;
  if (!parseBounded(mp, bytes))
    return Status::badInput("not a valid ONNX model: the protobuf data is truncated or corrupt, or nests more than " +
                            std::to_string(kMaxNesting) + " levels deep");
  LoadState st{limits, externalDataDir};
  return graphFromProto(mp, st);
}

Result<Graph> loadModel(const std::string& path, const LoadLimits& limits) {
  auto bytes = readFile(path, limits.maxFileBytes);
  if (!bytes) return bytes.status();
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto g = loadModelFromBytes(bytes.value(), dir, limits);
  if (!g) return g.status().withContext(path);
  return g;
}

namespace {
void graphToProto(const Graph& g, onnx::ModelProto& mp) {
  mp.set_ir_version(g.irVersion);
  mp.set_producer_name(g.producerName);
  mp.set_producer_version(g.producerVersion);
  if (!g.docString.empty()) mp.set_doc_string(g.docString);
  for (const auto& kv : g.metadata) {
    auto* p = mp.add_metadata_props();
    p->set_key(kv.first);
    p->set_value(kv.second);
  }
  for (const auto& o : g.opsetImports) {
    auto* op = mp.add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
  }
  auto* gp = mp.mutable_graph();
  gp->set_name(g.name);
  for (const auto& v : g.inputs) valueInfoToProto(v, *gp->add_input());
  if (g.irVersion < 4) {
    // Before IR 4 every initializer must also be declared as an input.
    for (const auto& kv : g.initializers) {
      ValueInfo v;
      v.name = kv.first;
      v.dtype = kv.second.dtype();
      v.hasShape = true;
      for (int64_t d : kv.second.shape()) v.dims.push_back(Dim{d, ""});
      valueInfoToProto(v, *gp->add_input());
    }
  }
  for (const auto& v : g.outputs) valueInfoToProto(v, *gp->add_output());
  std::set<std::string> ioNames;
  for (const auto& v : g.inputs) ioNames.insert(v.name);
  for (const auto& v : g.outputs) ioNames.insert(v.name);
  for (const auto& kv : g.valueInfo)
    if (!ioNames.count(kv.first) && !g.initializers.count(kv.first)) valueInfoToProto(kv.second, *gp->add_value_info());
  for (const auto& kv : g.initializers) tensorToProto(kv.second, kv.first, *gp->add_initializer());
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.opType);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& kv : n.attrs) attributeToProto(kv.first, kv.second, *np->add_attribute());
  }
}
}  // namespace

Result<std::string> serializeModel(const Graph& g) {
  onnx::ModelProto mp;
  graphToProto(g, mp);
  std::string out;
  if (!mp.SerializeToString(&out)) return Status::internal("serializing the model failed (over 2 GiB?)");
  return out;
}

Status saveModel(const Graph& g, const std::string& path, const std::string& protect) {
  auto bytes = serializeModel(g);
  if (!bytes) return bytes.status();
  return writeFileAtomic(path, bytes.value(), protect);
}

Status checkModelBytes(const std::string& bytes) {
  onnx::ModelProto mp;
  if (!parseBounded(mp, bytes)) return Status::badInput("not a valid ONNX model");
  try {
    onnx::checker::check_model(mp);
  } catch (const std::exception& e) {
    return Status::badInput(std::string("onnx checker: ") + e.what());
  }
  return Status::ok();
}

Status checkModel(const Graph& g) {
  auto bytes = serializeModel(g);
  if (!bytes) return bytes.status();
  return checkModelBytes(bytes.value());
}

Result<NamedTensor> parseTensorProto(const std::string& bytes, const LoadLimits& limits) {
  onnx::TensorProto tp;
  if (!parseBounded(tp, bytes)) return Status::badInput("not a valid TensorProto: truncated or corrupt");
  LoadState st{limits, ""};
  auto t = tensorFromProto(tp, st);
  if (!t) return t.status();
  return NamedTensor{tp.name(), std::move(t.value())};
}

Result<NamedTensor> loadTensorProto(const std::string& path, const LoadLimits& limits) {
  auto bytes = readFile(path, limits.maxFileBytes);
  if (!bytes) return bytes.status();
  auto t = parseTensorProto(bytes.value(), limits);
  if (!t) return t.status().withContext(path);
  return t;
}

Result<std::string> serializeTensorProto(const Tensor& t, const std::string& name) {
  onnx::TensorProto tp;
  tensorToProto(t, name, tp);
  std::string out;
  if (!tp.SerializeToString(&out)) return Status::internal("serializing tensor '" + name + "' failed");
  return out;
}

Status saveTensorProto(const Tensor& t, const std::string& name, const std::string& path) {
  auto bytes = serializeTensorProto(t, name);
  if (!bytes) return bytes.status();
  return writeFileAtomic(path, bytes.value());
}

}  // namespace topiary
