// The packed-weight GEMM (kernels/packed_gemm.h) against a double-precision
// loop on shapes around its 12-row tiles, 16/32-wide panels and K blocks,
// with strided operands (nothing past a row's end may be written), and the
// Gemm operator forced onto it against the same loop and against "dense",
// for every bias broadcast form ONNX allows, and with a bias that changes
// between runs.
#include <QtTest>
#include <cmath>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"
#include "kernels/packed_gemm.h"
#include "topiary/executor.h"

using namespace topiary;
using namespace nntest;

namespace {

double relu(double x) { return x > 0 ? x : 0; }

// Tolerance of one output: float rounding grows with the number and size
// of the terms summed, so it is relative to their absolute sum.
double tolerance(double absSum) { return 1e-5 * absSum + 1e-6; }

std::vector<float> randomVector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace

class TestPackedGemm : public QObject {
  Q_OBJECT
 private slots:
  void kernelAgainstReference_data() {
    QTest::addColumn<int>("transB");
    QTest::addColumn<int>("threads");
    QTest::addColumn<bool>("withRelu");
    QTest::addColumn<bool>("fromBiasRow");
    for (int tb : {0, 1})
      for (int threads : {1, 2})
        for (bool act : {false, true})
          for (bool biasRow : {false, true})
            QTest::newRow(qPrintable(QString("transB%1 t%2%3%4")
                                         .arg(tb)
                                         .arg(threads)
                                         .arg(act ? " relu" : "")
                                         .arg(biasRow ? " bias-row" : " y-init")))
                << tb << threads << act << biasRow;
  }
  // y = act(init + A * alpha op(B)) with lda > K and ldy > N: the gap after
  // each output row keeps its sentinel.
  void kernelAgainstReference() {
    QFETCH(int, transB);
    QFETCH(int, threads);
    QFETCH(bool, withRelu);
    QFETCH(bool, fromBiasRow);
    std::mt19937 rng(static_cast<unsigned>(transB * 8 + threads * 4 + withRelu * 2 + fromBiasRow));
    kernels::Activation act;
    if (withRelu) act.kind = kernels::Activation::Kind::Relu;
    const float alpha = 0.75f, sentinel = 12345.f;
    int cases = 0;
    for (int64_t M : {1, 2, 7, 16, 33, 256})
      for (int64_t N : {1, 3, 17, 100, 300})
        for (int64_t K : {1, 3, 17, 100, 784, 1100}) {  // 1100: two K blocks
          if (M * N * K > 256 * 300 * 784) continue;    // lenet-300-100's fc1 at batch 256 is the largest
          const int64_t lda = K + 3, ldb = (transB ? K : N) + 2, ldy = N + 5;
          std::vector<float> a = randomVector(static_cast<size_t>(M * lda), rng);
          std::vector<float> b = randomVector(static_cast<size_t>((transB ? N : K) * ldb), rng);
          std::vector<float> bias = randomVector(static_cast<size_t>(N), rng);
          std::vector<float> y = randomVector(static_cast<size_t>(M * ldy), rng);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = N; j < ldy; ++j) y[static_cast<size_t>(i * ldy + j)] = sentinel;
          const std::vector<float> y0 = y;
          kernels::PackedGemm g;
          g.pack(b.data(), K, N, ldb, transB != 0, alpha);
          g.run(M, a.data(), lda, y.data(), ldy, fromBiasRow ? bias.data() : nullptr, &act, threads);
          double worst = 0;
          for (int64_t i = 0; i < M; ++i) {
            for (int64_t j = 0; j < N; ++j) {
              const double init = fromBiasRow ? bias[static_cast<size_t>(j)] : y0[static_cast<size_t>(i * ldy + j)];
              double s = init, absSum = std::fabs(init);
              for (int64_t k = 0; k < K; ++k) {
                const double t = static_cast<double>(alpha) * a[static_cast<size_t>(i * lda + k)] *
                                 b[static_cast<size_t>(transB ? j * ldb + k : k * ldb + j)];
                s += t;
                absSum += std::fabs(t);
              }
              const double want = withRelu ? relu(s) : s;
              const double err = std::fabs(y[static_cast<size_t>(i * ldy + j)] - want);
              worst = std::max(worst, err / tolerance(absSum));
            }
            for (int64_t j = N; j < ldy; ++j)
              QVERIFY2(y[static_cast<size_t>(i * ldy + j)] == sentinel,
                       qPrintable(QString("M %1 N %2 K %3: wrote past row %4").arg(M).arg(N).arg(K).arg(i)));
          }
          QVERIFY2(worst <= 1.0,
                   qPrintable(QString("M %1 N %2 K %3: error %4 tolerances").arg(M).arg(N).arg(K).arg(worst)));
          ++cases;
        }
    QVERIFY(cases > 100);
  }

  void gemmOperator_data() {
    QTest::addColumn<int>("transB");
    QTest::addColumn<int>("threads");
    QTest::addColumn<QString>("act");
    for (int tb : {0, 1})
      for (int threads : {1, 2})
        for (const char* act : {"", "Relu"})
          QTest::newRow(qPrintable(QString("transB%1 t%2 %3").arg(tb).arg(threads).arg(act)))
              << tb << threads << QString(act);
  }
  // The Gemm operator with topiary.kernel = "packed" and "dense" against a
  // loop: alpha and beta not 1, C absent, scalar, a row, a column or full.
  void gemmOperator() {
    QFETCH(int, transB);
    QFETCH(int, threads);
    QFETCH(QString, act);
    std::mt19937 rng(static_cast<unsigned>(transB * 2 + threads));
    const float alpha = 0.7f, beta = 1.3f;
    for (int64_t M : {1, 7, 33})
      for (int64_t N : {3, 17, 100})
        for (int64_t K : {1, 17, 300}) {
          const Shape cShapes[] = {{}, {1}, {N}, {1, N}, {M, 1}, {M, N}};
          for (size_t ci = 0; ci < std::size(cShapes) + 1; ++ci) {
            const bool noC = ci == std::size(cShapes);
            Tensor A = randomTensor({M, K}, rng);
            Tensor B = randomTensor(transB ? Shape{N, K} : Shape{K, N}, rng);
            Tensor C = noC ? Tensor() : randomTensor(cShapes[ci], rng);
            const int64_t cr = !noC && C.rank() == 2 ? C.dim(0) : 1, cc = noC || C.rank() == 0 ? 1 : C.shape().back();
            std::vector<const Tensor*> in{&A, &B};
            if (!noC) in.push_back(&C);
            Tensor results[2];
            const char* kernelNames[] = {"packed", "dense"};
            for (int kn = 0; kn < 2; ++kn) {
              std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                                     {"topiary.kernel", Attribute::ofString(kernelNames[kn])},
                                                     {"alpha", Attribute::ofFloat(alpha)},
                                                     {"beta", Attribute::ofFloat(beta)},
                                                     {"transB", Attribute::ofInt(transB)}};
              if (!act.isEmpty()) attrs["topiary.act"] = Attribute::ofString(act.toStdString());
              auto k = build("Gemm", attrs);
              QVERIFY2(k.isOk(), k.status().message().c_str());
              RunContext ctx;
              ctx.threads = threads;
              std::string why;
              // Twice: the first run times and packs, the second runs warm.
              std::vector<Tensor> out = run(*k.value(), in, 1, ctx, &why);
              QVERIFY2(!out.empty(), why.c_str());
              out = run(*k.value(), in, 1, ctx, &why);
              QVERIFY2(!out.empty(), why.c_str());
              const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
              QVERIFY2(choice.rfind(kernelNames[kn], 0) == 0, choice.c_str());
              results[kn] = out[0];
            }
            const QString where = QString("M %1 N %2 K %3 C %4")
                                      .arg(M)
                                      .arg(N)
                                      .arg(K)
                                      .arg(noC ? QString("none") : QString::fromStdString(shapeToString(C.shape())));
            QCOMPARE(results[0].shape(), (Shape{M, N}));
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = 0; j < N; ++j) {
                const double c =
                    noC ? 0.0 : static_cast<double>(beta) * C.at((cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j));
                double s = c, absSum = std::fabs(c);
                for (int64_t k = 0; k < K; ++k) {
                  const double t =
                      static_cast<double>(alpha) * A.at(i * K + k) * (transB ? B.at(j * K + k) : B.at(k * N + j));
                  s += t;
                  absSum += std::fabs(t);
                }
                const double want = act.isEmpty() ? s : relu(s);
                for (int kn = 0; kn < 2; ++kn)
                  QVERIFY2(std::fabs(results[kn].at(i * N + j) - want) <= tolerance(absSum),
                           qPrintable(QString("%1 %2: [%3, %4] %5 vs %6")
                                          .arg(kernelNames[kn])
                                          .arg(where)
                                          .arg(i)
                                          .arg(j)
                                          .arg(results[kn].at(i * N + j))
                                          .arg(want)));
              }
          }
        }
  }

  // One packed operator run on batches of different sizes (re-timed between
  // a single row and several) and with a transposed A (which the packed
  // form does not cover: it falls back to the dense product).
  void batchChangesAndTransA() {
    std::mt19937 rng(11);
    const int64_t K = 50, N = 40;
    Tensor B = randomTensor({N, K}, rng), C = randomTensor({N}, rng);
    for (int transA : {0, 1}) {
      std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                             {"topiary.kernel", Attribute::ofString("packed")},
                                             {"transA", Attribute::ofInt(transA)},
                                             {"transB", Attribute::ofInt(1)}};
      auto k = build("Gemm", attrs);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      RunContext ctx;
      ctx.threads = 2;
      for (int64_t M : {9, 1, 30, 1, 9}) {
        Tensor A = randomTensor(transA ? Shape{K, M} : Shape{M, K}, rng);
        std::string why;
        std::vector<Tensor> out = run(*k.value(), {&A, &B, &C}, 1, ctx, &why);
        QVERIFY2(!out.empty(), why.c_str());
        QCOMPARE(out[0].shape(), (Shape{M, N}));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = C.at(j), absSum = std::fabs(s);
            for (int64_t kk = 0; kk < K; ++kk) {
              const double t = static_cast<double>(transA ? A.at(kk * M + i) : A.at(i * K + kk)) * B.at(j * K + kk);
              s += t;
              absSum += std::fabs(t);
            }
            QVERIFY2(std::fabs(out[0].at(i * N + j) - s) <= tolerance(absSum),
                     qPrintable(QString("transA %1 M %2 [%3, %4]").arg(transA).arg(M).arg(i).arg(j)));
          }
      }
    }
  }

  // The packed kernel keeps its bias row between runs only when C is an
  // initializer (the optimiser marks it): a C computed at run time, even
  // rewritten in the same buffer, is read again on every run.
  void biasRowFollowsRunTimeC() {
    std::mt19937 rng(5);
    const int64_t K = 24, N1 = 40, N2 = 30;
    Graph g;
    g.inputs.push_back(ValueInfo{"x", DType::Float, true, {Dim{-1, "N"}, Dim{K, ""}}});
    g.inputs.push_back(ValueInfo{"c", DType::Float, true, {Dim{N2, ""}}});
    g.initializers["w1"] = randomTensor({N1, K}, rng);
    g.initializers["c1"] = randomTensor({N1}, rng);
    g.initializers["w2"] = randomTensor({N2, N1}, rng);
    for (int i = 0; i < 2; ++i) {
      Node n;
      n.name = i == 0 ? "fc1" : "fc2";
      n.opType = "Gemm";
      n.inputs = i == 0 ? std::vector<std::string>{"x", "w1", "c1"} : std::vector<std::string>{"h", "w2", "c"};
      n.outputs = {i == 0 ? "h" : "y"};
      n.attrs["transB"] = Attribute::ofInt(1);
      n.attrs["topiary.kernel"] = Attribute::ofString("packed");
      g.nodes.push_back(n);
    }
    g.outputs.push_back(ValueInfo{"y", DType::Float, false, {}});
    QVERIFY(g.validate().isOk());
    ExecutorOptions plain, fast;
    plain.threads = fast.threads = 1;
    fast.optimizeForInference = true;
    auto a = Executor::create(g, plain);
    auto b = Executor::create(g, fast);
    QVERIFY2(a.isOk() && b.isOk(), a.isOk() ? b.status().message().c_str() : a.status().message().c_str());
    int marked = 0;
    for (size_t i = 0; i < (*b)->nodeCount(); ++i) {
      const Node& n = (*b)->runNode(i);
      QCOMPARE(n.attrInt("topiary.frozen", 0), int64_t(1));
      QCOMPARE(n.attrInt("topiary.constant_bias", 0), int64_t(n.name == "fc1" ? 1 : 0));
      marked += n.name == "fc1";
    }
    QCOMPARE(marked, 1);
    Tensor x = randomTensor({3, K}, rng), c = randomTensor({N2}, rng);
    for (int rep = 0; rep < 3; ++rep) {
      for (int64_t j = 0; j < N2; ++j) c.at(j) = static_cast<float>(rep * 10 + j);  // same buffer, new values
      const std::vector<std::pair<std::string, const Tensor*>> in{{"x", &x}, {"c", &c}};
      QVERIFY((*a)->run(in).isOk());
      QVERIFY((*b)->run(in).isOk());
      const std::vector<std::string> choices = (*b)->kernelChoices();
      QCOMPARE(choices.size(), size_t(2));
      for (const auto& ch : choices) QVERIFY2(ch.rfind("packed", 0) == 0, ch.c_str());
      QCOMPARE((*b)->output(0).shape(), (Shape{3, N2}));
      double worst = 0;
      for (int64_t e = 0; e < 3 * N2; ++e)
        worst = std::max(worst, std::fabs(double((*b)->output(0).at(e)) - double((*a)->output(0).at(e))));
      QVERIFY2(worst < 1e-3, qPrintable(QString("run %1: max difference %2").arg(rep).arg(worst)));
    }
  }

  // Flatten(axis 1) read only by a Gemm is folded into it (the Gemm reads the
  // 4-D input as [N, rest], no copy); one whose output is also read
  // elsewhere (here a graph output) stays. Same outputs as the plain graph.
  void flattenFoldsIntoGemm() {
    std::mt19937 rng(9);
    const int64_t C = 2, H = 3, W = 4, K = C * H * W, N1 = 5, N2 = 7;
    Graph g;
    g.inputs.push_back(ValueInfo{"x", DType::Float, true, {Dim{-1, "N"}, Dim{C, ""}, Dim{H, ""}, Dim{W, ""}}});
    g.initializers["w1"] = randomTensor({N1, K}, rng);
    g.initializers["w2"] = randomTensor({K, N2}, rng);
    g.initializers["c2"] = randomTensor({N2}, rng);
    auto add = [&](const char* name, const char* op, std::vector<std::string> in, const char* out) {
      Node n;
      n.name = name;
      n.opType = op;
      n.inputs = std::move(in);
      n.outputs = {out};
      if (std::string(name) == "fc1") n.attrs["transB"] = Attribute::ofInt(1);
      g.nodes.push_back(n);
    };
    add("flat1", "Flatten", {"x"}, "f1");
    add("fc1", "Gemm", {"f1", "w1"}, "y1");
    add("flat2", "Flatten", {"x"}, "f2");
    add("fc2", "Gemm", {"f2", "w2", "c2"}, "y2");
    for (const char* out : {"y1", "y2", "f2"}) g.outputs.push_back(ValueInfo{out, DType::Float, false, {}});
    QVERIFY(g.validate().isOk());
    ExecutorOptions plain, fast;
    fast.optimizeForInference = true;
    auto a = Executor::create(g, plain);
    auto b = Executor::create(g, fast);
    QVERIFY2(a.isOk() && b.isOk(), a.isOk() ? b.status().message().c_str() : a.status().message().c_str());
    std::vector<std::string> ops;
    for (size_t i = 0; i < (*b)->nodeCount(); ++i) {
      const Node& n = (*b)->runNode(i);
      ops.push_back(n.name);
      QCOMPARE(n.attrInt("topiary.flatten_a", 0), int64_t(n.name == "fc1" ? 1 : 0));
    }
    QCOMPARE(ops, (std::vector<std::string>{"fc1", "flat2", "fc2"}));
    for (int64_t batch : {3, 1}) {
      Tensor x = randomTensor({batch, C, H, W}, rng);
      QVERIFY((*a)->run(x).isOk());
      QVERIFY((*b)->run(x).isOk());
      for (size_t o = 0; o < 3; ++o) {
        QCOMPARE((*b)->output(o).shape(), (*a)->output(o).shape());
        QVERIFY(testutil::maxAbsDiff((*b)->output(o), (*a)->output(o)) < 1e-5);
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestPackedGemm)
#include "test_packed_gemm.moc"
