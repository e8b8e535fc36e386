// Einsum, opsets 12..latest: Einstein summation over labelled axes, e.g.
// "ij,jk->ik" (matrix product), "bij,bjk->bik" (batched), "ij->ji"
// (transpose), "ii->i" (diagonal), "ii" (trace), "...ij,...jk" (ellipsis
// broadcasting). Without "->" the output holds the ellipsis axes, then the
// labels used once, in alphabetical order. A label repeated within one
// operand walks its diagonal. One plain loop computes every output element
// as the sum over the labels absent from the output (float sums in double;
// integer sums wrap); its work is capped (2^30) so a hostile equation cannot spin.
// The common float contraction of two operands (attention's "bhid,bhjd->bhij",
// a matrix product, a batched one) instead becomes one GEMM per batch: the
// operands are copied into [batch, M, K] and [batch, K, N] order, multiplied
// by Eigen, and the product is copied into the output's axis order.
#include <Eigen/Core>
#include <cctype>

#include "kernels/threading.h"
#include "ops/elementwise/dispatch.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

constexpr int kLetters = 52;  // a-z, A-Z; the ellipsis axes take the codes after them

int labelCode(char c) { return std::islower(static_cast<unsigned char>(c)) ? c - 'a' : c - 'A' + 26; }
// ASCII order (upper case first), as numpy sorts implicit outputs.
int asciiOrder(int code) { return code < 26 ? code + 26 : code - 26; }

struct Term {
  std::vector<int> labels;  // letter codes, -1 where the ellipsis stands
  bool ellipsis = false;
};

Status parseTerm(const std::string& s, Term& t) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (t.ellipsis || s.compare(i, 3, "...") != 0) return Status::badInput("Einsum equation has a stray '.'");
      t.ellipsis = true;
      t.labels.push_back(-1);
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      t.labels.push_back(labelCode(c));
    } else {
      return Status::badInput(std::string("Einsum equation has an invalid character '") + c + "'");
    }
  }
  return Status::ok();
}

class Einsum final : public Kernel {
 public:
  Einsum(std::vector<Term> inputs, Term output, bool explicitOutput)
      : inputs_(std::move(inputs)), output_(std::move(output)), explicit_(explicitOutput) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    if (in.size() != inputs_.size())
      return Status::badInput("Einsum equation names " + std::to_string(inputs_.size()) +
                              " operands but the node has " + std::to_string(in.size()) + " inputs");
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, in.size(), "Einsum"));
    const DType dt = in[0]->dtype();
    for (const Tensor* t : in)
      if (t->dtype() != dt) return Status::badInput("Einsum operands must share one type");

    // Size of every label; the ellipsis axes broadcast numpy-style.
    int ellRank = 0;
    std::vector<int64_t> size;
    // Per operand: the code of each of its axes.
    std::vector<std::vector<int>> axes;
    TOPIARY_RETURN_IF_ERROR(
        labelSizes(in.size(), [&](size_t k) -> const Shape& { return in[k]->shape(); }, size, axes, ellRank));
    const int nCodes = kLetters + ellRank;
    // Output axes.
    std::vector<int> outAxes;
    std::vector<int> uses(static_cast<size_t>(nCodes), 0);
    for (const auto& a : axes)
      for (int code : a) ++uses[static_cast<size_t>(code)];
    if (explicit_) {
      for (int code : output_.labels) {
        if (code < 0) {
          for (int e = 0; e < ellRank; ++e) outAxes.push_back(kLetters + e);
          continue;
        }
        if (size[static_cast<size_t>(code)] < 0)
          return Status::badInput("Einsum output label is not used by any operand");
        if (std::find(outAxes.begin(), outAxes.end(), code) != outAxes.end())
          return Status::badInput("Einsum output repeats a label");
        outAxes.push_back(code);
      }
    } else {
      for (int e = 0; e < ellRank; ++e) outAxes.push_back(kLetters + e);
      std::vector<int> once;
      for (int code = 0; code < kLetters; ++code)
        if (uses[static_cast<size_t>(code)] == 1) once.push_back(code);
      std::sort(once.begin(), once.end(), [](int a, int b) { return asciiOrder(a) < asciiOrder(b); });
      outAxes.insert(outAxes.end(), once.begin(), once.end());
    }
    std::vector<int> sumAxes;
    for (int code = 0; code < nCodes; ++code)
      if (size[static_cast<size_t>(code)] >= 0 && std::find(outAxes.begin(), outAxes.end(), code) == outAxes.end())
        sumAxes.push_back(code);

    Shape outShape, sumShape;
    for (int code : outAxes) outShape.push_back(size[static_cast<size_t>(code)]);
    for (int code : sumAxes) sumShape.push_back(size[static_cast<size_t>(code)]);
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(outShape, dt, "Einsum"));
    if (dt == DType::Float && in.size() == 2 && contractByGemm(in, axes, outAxes, size, outShape, *out[0], ctx))
      return Status::ok();
    const int64_t outN = numelOf(outShape);
    auto sumN = checkedNumel(sumShape);
    if (!sumN) return sumN.status().withContext("Einsum");
    if (outN > 0 && sumN.value() > (int64_t(1) << 30) / outN)
      return Status::unsupported(
          "Einsum would need more than 2^30 multiply-adds in its general loop (diagonals, broadcasting, integers)");

    // Strides of each operand along the output axes and along the summed
    // axes (a label used twice in one operand adds both strides: its diagonal;
    // a broadcast axis of size 1 has stride 0).
    const size_t nIn = in.size();
    std::vector<std::vector<int64_t>> outStr(nIn, std::vector<int64_t>(outAxes.size(), 0)),
        sumStr(nIn, std::vector<int64_t>(sumAxes.size(), 0));
    for (size_t k = 0; k < nIn; ++k) {
      const auto st = stridesOf(in[k]->shape());
      for (size_t a = 0; a < axes[k].size(); ++a) {
        if (in[k]->shape()[a] == 1) continue;
        const int code = axes[k][a];
        auto o = std::find(outAxes.begin(), outAxes.end(), code);
        if (o != outAxes.end()) outStr[k][static_cast<size_t>(o - outAxes.begin())] += st[a];
        auto s = std::find(sumAxes.begin(), sumAxes.end(), code);
        if (s != sumAxes.end()) sumStr[k][static_cast<size_t>(s - sumAxes.begin())] += st[a];
      }
    }
    Tensor& y = *out[0];
    const bool known = visitNumeric(dt, [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      y.resize(dt, outShape);
      T* yp = y.data<T>();
      std::vector<const T*> src(nIn);
      for (size_t k = 0; k < nIn; ++k) src[k] = in[k]->data<T>();
      std::vector<int64_t> oIdx(outAxes.size(), 0), sIdx(sumAxes.size(), 0), base(nIn, 0), off(nIn, 0);
      for (int64_t o = 0; o < outN; ++o) {
        for (size_t k = 0; k < nIn; ++k) {
          base[k] = 0;
          for (size_t a = 0; a < outAxes.size(); ++a) base[k] += oIdx[a] * outStr[k][a];
        }
        Acc acc = Acc(0);
        std::fill(sIdx.begin(), sIdx.end(), 0);
        off = base;
        for (int64_t s = 0; s < sumN.value(); ++s) {
          Acc p = Acc(1);
          for (size_t k = 0; k < nIn; ++k) p = wrapMul<Acc>(p, static_cast<Acc>(src[k][off[k]]));
          acc = wrapAdd<Acc>(acc, p);
          for (size_t a = sumAxes.size(); a-- > 0;) {
            for (size_t k = 0; k < nIn; ++k) off[k] += sumStr[k][a];
            if (++sIdx[a] < sumShape[a]) break;
            for (size_t k = 0; k < nIn; ++k) off[k] -= sumStr[k][a] * sumShape[a];
            sIdx[a] = 0;
          }
        }
        yp[o] = static_cast<T>(acc);
        for (size_t a = outAxes.size(); a-- > 0;) {
          if (++oIdx[a] < outShape[a]) break;
          oIdx[a] = 0;
        }
      }
    });
    if (!known) return Status::unsupported(std::string("Einsum does not support type ") + dtypeName(dt));
    return Status::ok();
  }

  // Every index combination takes one multiply per operand after the first,
  // and one add when some label is summed (absent from the output): a
  // matrix product counts 2*M*N*K, as MatMul does; a transpose or a diagonal
  // counts nothing. For the GEMM form and the general loop alike.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() != inputs_.size() || in.empty()) return 0.0;
    int ellRank = 0;
    std::vector<int64_t> size;
    std::vector<std::vector<int>> axes;
    if (!labelSizes(in.size(), [&](size_t k) -> const Shape& { return in[k]; }, size, axes, ellRank).isOk())
      return 0.0;
    double combinations = 1.0;
    for (int64_t s : size)
      if (s >= 0) combinations *= static_cast<double>(s);
    const bool summed = !out.empty() && combinations > static_cast<double>(numelOf(out[0]));
    return (static_cast<double>(in.size() - 1) + (summed ? 1.0 : 0.0)) * combinations;
  }

 private:
  // From the operands' shapes (shapeOf(k) for operand k): the size of every
  // label code (-1: unused; the ellipsis axes, codes kLetters.., broadcast
  // numpy-style), the code of each operand's axes, and the ellipsis rank.
  template <class ShapeOf>
  Status labelSizes(size_t nIn, ShapeOf shapeOf, std::vector<int64_t>& size, std::vector<std::vector<int>>& axes,
                    int& ellRank) const {
    ellRank = 0;
    for (size_t k = 0; k < nIn; ++k) {
      const int rank = static_cast<int>(shapeOf(k).size());
      const int named = static_cast<int>(inputs_[k].labels.size()) - (inputs_[k].ellipsis ? 1 : 0);
      if (rank < named || (!inputs_[k].ellipsis && rank != named))
        return Status::badInput("Einsum operand " + std::to_string(k) + " of shape " + shapeToString(shapeOf(k)) +
                                " does not match its " + std::to_string(named) + " labels");
      ellRank = std::max(ellRank, rank - named);
    }
    size.assign(static_cast<size_t>(kLetters + ellRank), -1);
    axes.assign(nIn, {});
    for (size_t k = 0; k < nIn; ++k) {
      const Shape& shape = shapeOf(k);
      const int named = static_cast<int>(inputs_[k].labels.size()) - (inputs_[k].ellipsis ? 1 : 0);
      const int ell = static_cast<int>(shape.size()) - named;
      for (int code : inputs_[k].labels) {
        if (code >= 0)
          axes[k].push_back(code);
        else
          for (int e = 0; e < ell; ++e) axes[k].push_back(kLetters + ellRank - ell + e);
      }
      for (size_t a = 0; a < axes[k].size(); ++a) {
        const int64_t d = shape[a];
        int64_t& s = size[static_cast<size_t>(axes[k][a])];
        const bool isEll = axes[k][a] >= kLetters;
        if (s < 0 || (isEll && s == 1))
          s = d;
        else if (s != d && !(isEll && d == 1))
          return Status::badInput("Einsum label sizes disagree: " + std::to_string(s) + " and " + std::to_string(d) +
                                  " (operand " + std::to_string(k) + " " + shapeToString(shape) + ")");
      }
    }
    return Status::ok();
  }

  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  // Two float operands whose every label is a batch label (both operands and
  // the output), an M label (A and the output), an N label (B and the
  // output) or a K label (A and B, summed), each at most once per operand
  // and without broadcasting. Returns false, having done nothing, otherwise.
  bool contractByGemm(const std::vector<const Tensor*>& in, const std::vector<std::vector<int>>& axes,
                      const std::vector<int>& outAxes, const std::vector<int64_t>& size, const Shape& outShape,
                      Tensor& y, const RunContext& ctx) {
    const size_t nCodes = size.size();
    std::vector<int> where(nCodes, 0);  // bit 0: in A, bit 1: in B, bit 2: in the output
    for (size_t k = 0; k < 2; ++k)
      for (size_t a = 0; a < axes[k].size(); ++a) {
        const int code = axes[k][a];
        if (where[static_cast<size_t>(code)] & (1 << k)) return false;           // a diagonal
        if (in[k]->shape()[a] != size[static_cast<size_t>(code)]) return false;  // broadcast
        where[static_cast<size_t>(code)] |= 1 << k;
      }
    for (int code : outAxes) where[static_cast<size_t>(code)] |= 4;
    std::vector<int> batch, m, n, kk;
    for (size_t code = 0; code < nCodes; ++code) {
      if (size[code] < 0) continue;
      switch (where[code]) {
        case 7:
          batch.push_back(static_cast<int>(code));
          break;
        case 5:
          m.push_back(static_cast<int>(code));
          break;
        case 6:
          n.push_back(static_cast<int>(code));
          break;
        case 3:
          kk.push_back(static_cast<int>(code));
          break;
        default:
          return false;  // summed within one operand
      }
    }
    // Products of label sizes, zero first: the sizes of an empty operand may
    // multiply past int64. Nonempty, each product is bounded by an operand's size.
    auto count = [&](const std::vector<int>& codes) {
      Shape dims;
      for (int code : codes) dims.push_back(size[static_cast<size_t>(code)]);
      return numelOf(dims);
    };
    y.resize(DType::Float, outShape);
    if (y.numel() == 0) return true;
    const int64_t B = count(batch), M = count(m), N = count(n), K = count(kk);
    if (K == 0) {
      y.setZero();
      return true;
    }
    // Copies operand k with its axes in the order `codes` (dense result).
    auto arrange = [&](size_t k, std::vector<int> codes, Tensor& dst) {
      const auto st = stridesOf(in[k]->shape());
      Shape shape;
      std::vector<int64_t> strides;
      for (int code : codes) {
        const size_t a = static_cast<size_t>(std::find(axes[k].begin(), axes[k].end(), code) - axes[k].begin());
        shape.push_back(size[static_cast<size_t>(code)]);
        strides.push_back(st[a]);
      }
      dst.resize(DType::Float, shape);
      stridedGather(in[k]->raw(), dst.raw(), sizeof(float), shape, strides, 0, ctx.threads);
    };
    std::vector<int> orderA = batch, orderB = batch, orderC = batch;
    orderA.insert(orderA.end(), m.begin(), m.end());
    orderA.insert(orderA.end(), kk.begin(), kk.end());
    orderB.insert(orderB.end(), kk.begin(), kk.end());
    orderB.insert(orderB.end(), n.begin(), n.end());
    orderC.insert(orderC.end(), m.begin(), m.end());
    orderC.insert(orderC.end(), n.begin(), n.end());
    arrange(0, orderA, a_);
    arrange(1, orderB, b_);
    c_.resize(DType::Float, {B, M, N});
    const float *a = a_.f(), *b = b_.f();
    float* c = c_.f();
    const int threads = kernels::threadsFor(2.0 * static_cast<double>(B * M) * static_cast<double>(N * K), ctx.threads);
    parallelFor(B, threads, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i)
        Eigen::Map<RowMat>(c + i * M * N, M, N).noalias() =
            Eigen::Map<const RowMat>(a + i * M * K, M, K) * Eigen::Map<const RowMat>(b + i * K * N, K, N);
    });
    // The product's axes (batch, M, N) into the output's order.
    Shape cShape;
    for (int code : orderC) cShape.push_back(size[static_cast<size_t>(code)]);
    const auto cStrides = stridesOf(cShape);
    std::vector<int64_t> strides;
    for (int code : outAxes)
      strides.push_back(cStrides[static_cast<size_t>(std::find(orderC.begin(), orderC.end(), code) - orderC.begin())]);
    stridedGather(c, y.raw(), sizeof(float), outShape, strides, 0, ctx.threads);
    return true;
  }

  std::vector<Term> inputs_;
  Term output_;
  bool explicit_;
  Tensor a_, b_, c_;  // the operands and the product in GEMM order, reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createEinsum(const Node& node, int) {
  std::string eq;
  for (char c : node.attrString("equation", ""))
    if (!std::isspace(static_cast<unsigned char>(c))) eq += c;
  if (eq.empty()) return Status::badInput("Einsum needs the attribute 'equation'");
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> inputs;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    Term t;
    TOPIARY_RETURN_IF_ERROR(
        parseTerm(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start), t));
    inputs.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  Term output;
  if (arrow != std::string::npos) {
    TOPIARY_RETURN_IF_ERROR(parseTerm(eq.substr(arrow + 2), output));
    if (output.ellipsis && std::none_of(inputs.begin(), inputs.end(), [](const Term& t) { return t.ellipsis; }))
      return Status::badInput("Einsum output has '...' but no operand does");
  }
  return make<Einsum>(std::move(inputs), std::move(output), arrow != std::string::npos);
}

}  // namespace topiary::ops
