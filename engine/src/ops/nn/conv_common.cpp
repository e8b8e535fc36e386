#include "ops/nn/conv_common.h"

#include <Eigen/Core>
#include <algorithm>

#include "ops/common.h"
#include "ops/nn/im2col.h"
#include "ops/scratch.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

}  // namespace

Status resolveConv(const std::vector<const Tensor*>& in, const WindowAttrs& attrs, int64_t group, ConvDims& d,
                   Window& win) {
  TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Conv"));
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  TOPIARY_RETURN_IF_ERROR(expectFloat(X, "Conv", "X"));
  TOPIARY_RETURN_IF_ERROR(expectFloat(W, "Conv", "W"));
  if (X.rank() < 3 || W.rank() != X.rank())
    return Status::badInput("Conv needs X as [N,C,spatial...] and W of the same rank, got X " +
                            shapeToString(X.shape()) + " and W " + shapeToString(W.shape()));
  d.N = X.dim(0);
  d.Cin = X.dim(1);
  d.Cout = W.dim(0);
  d.Cg = W.dim(1);
  if (d.Cg * group != d.Cin || d.Cout % group != 0)
    return Status::badInput("Conv with group " + std::to_string(group) + ": X " + shapeToString(X.shape()) +
                            " and W " + shapeToString(W.shape()) + " have inconsistent channel counts");
  const int64_t* kernel = W.shape().data() + 2;  // dims read in place: a warm run allocates nothing
  const size_t nk = W.shape().size() - 2;
  if (!attrs.kernel.empty() && !std::equal(attrs.kernel.begin(), attrs.kernel.end(), kernel, kernel + nk))
    return Status::badInput("Conv attribute 'kernel_shape' does not match the weight " + shapeToString(W.shape()));
  TOPIARY_RETURN_IF_ERROR(resolveWindow(attrs, "Conv", X.shape().data() + 2, X.shape().size() - 2, kernel, nk, win));
  if (in.size() > 2 && in[2] && in[2]->numel() > 0) {
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[2], "Conv", "B"));
    if (in[2]->numel() != d.Cout)
      return Status::badInput("Conv bias has shape " + shapeToString(in[2]->shape()) + ", expected [" +
                              std::to_string(d.Cout) + "]");
  }
  return Status::ok();
}

bool isPointwise(const Window& win) {
  for (int i = 0; i < 3; ++i)
    if (win.k[i] != 1 || win.s[i] != 1 || win.padBegin[i] != 0 || win.padEnd[i] != 0) return false;
  return true;
}

void convBackwardIm2col(const ConvShape& s, const float* x, const float* w, const float* gy, float* gx, float* gw,
                        int threads, int workers, std::vector<float>& colScratch, std::vector<float>& part) {
  const Window& win = s.win;
  const int64_t P = win.outSize(), inN = win.inSize(), Cg = s.Cin / s.group;
  const int64_t Kc = Cg * win.kSize(), CoutG = s.Cout / s.group, colN = s.Cin * win.kSize() * P;
  const int64_t wN = s.Cout * Kc;
  const int T = workers;
  const bool direct = isPointwise(win);  // 1x1: the input is its own im2col matrix
  if (!direct) sizeScratch(colScratch, static_cast<size_t>(T * colN));
  if (gw) part.assign(static_cast<size_t>(T * wN), 0.f);
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* col = direct ? nullptr : colScratch.data() + t * colN;
      const int inner = T == 1 ? threads : 1;
      for (int64_t n = s.N * t / T; n < s.N * (t + 1) / T; ++n) {
        const float* xn = x + n * s.Cin * inN;
        if (gw) {
          // dW_g += dY_g * col_g^T, summed over the images of this worker.
          if (col) im2col(xn, s.Cin, win, col, inner);
          const float* src = col ? col : xn;
          for (int64_t g = 0; g < s.group; ++g)
            MMap(part.data() + t * wN + g * CoutG * Kc, CoutG, Kc).noalias() +=
                CMap(gy + (n * s.Cout + g * CoutG) * P, CoutG, P) * CMap(src + g * Kc * P, Kc, P).transpose();
        }
        if (gx) {
          // dcol_g = W_g^T dY_g, scattered back onto the input (directly for 1x1 convs).
          float* gxn = gx + n * s.Cin * inN;
          for (int64_t g = 0; g < s.group; ++g) {
            CMap wg(w + g * CoutG * Kc, CoutG, Kc);
            CMap gyg(gy + (n * s.Cout + g * CoutG) * P, CoutG, P);
            if (col)
              MMap(col + g * Kc * P, Kc, P).noalias() = wg.transpose() * gyg;
            else
              MMap(gxn + g * Kc * P, Kc, P).noalias() = wg.transpose() * gyg;
          }
          if (col) col2imAdd(col, s.Cin, win, gxn, inner);
        }
      }
    }
  });
  if (gw)
    for (int64_t i = 0; i < wN; ++i) {
      float sum = 0;
      for (int t = 0; t < T; ++t) sum += part[static_cast<size_t>(t * wN + i)];
      gw[i] = sum;
    }
}

}  // namespace topiary::ops
