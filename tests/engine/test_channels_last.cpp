// Channels-last regions (optimize/channels_last.h with ops/nn/conv_channels_last.h,
// kernels/depthwise_conv.h, kernels/pointwise_nhwc.h and the channels-last
// squeeze-excite) against the same graph run as stored, on mobilenet-like
// chains: [1x1 or one-channel 3x3 ->] depthwise [-> squeeze-excite] -> 1x1 -> depthwise -> 1x1,
// with kernel sizes, strides, dilation, odd planes, channel counts that are
// and are not multiples of 16 (which end or prevent a region), batch 1 and
// an uneven batch, one and two threads. Each case also checks how many
// tensors were made channels-last, so a region that silently stops forming
// fails here.
#include <QtTest>
#include <random>

#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/graph.h"

using namespace topiary;

namespace {

struct ChainCase {
  // What reads x -> Relu before the first depthwise: 0 nothing, 1 a 1x1
  // Conv, 2 a 3x3 Conv with one input channel (a stem; c0 = 1, the case's stride, pad 1).
  int lead;
  int64_t c0, c1, c2, c3;            // input, first depthwise, second depthwise, output channels
  int64_t k, stride, pad, dilation;  // the first depthwise's window (the second is 3x3, pad 1)
  bool squeezeExcite;                // between the first depthwise and the next 1x1
  int64_t h, w;
  int links;  // tensors expected channels-last
  // Half of the second 1x1 Conv's weights zero: it stays NCHW (a sparse
  // kernel may serve it better), so the squeeze-excite before it does too.
  bool prunedPw1 = false;
};

Tensor randomTensor(const Shape& s, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::Float, s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] = u(rng);
  return t;
}

Node node(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.name = name;
  n.opType = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// A Conv with random weights [cout, cin / group, k, k] and bias.
Node conv(Graph& g, std::mt19937& rng, const std::string& name, const std::string& in, const std::string& out,
          int64_t cin, int64_t cout, int64_t group, int64_t k, int64_t stride = 1, int64_t pad = 0,
          int64_t dilation = 1) {
  g.initializers[name + ".w"] = randomTensor({cout, cin / group, k, k}, rng, -0.5f, 0.5f);
  g.initializers[name + ".b"] = randomTensor({cout}, rng, -0.2f, 0.2f);
  Node n = node(name, "Conv", {in, name + ".w", name + ".b"}, {out});
  n.attrs["group"] = Attribute::ofInt(group);
  n.attrs["strides"] = Attribute::ofInts({stride, stride});
  n.attrs["pads"] = Attribute::ofInts({pad, pad, pad, pad});
  n.attrs["dilations"] = Attribute::ofInts({dilation, dilation});
  return n;
}

Graph chainGraph(const ChainCase& c, std::mt19937& rng) {
  Graph g;
  g.opsetImports = {{"", 14}};  // HardSwish
  ValueInfo in;
  in.name = "x";
  in.hasShape = true;
  in.dims = {Dim{-1, "N"}, Dim{c.c0, ""}, Dim{c.h, ""}, Dim{c.w, ""}};
  g.inputs = {in};
  g.nodes.push_back(node("act0", "Relu", {"x"}, {"a"}));
  std::string t = "a";
  if (c.lead > 0) {
    g.nodes.push_back(c.lead == 1 ? conv(g, rng, "pw0", "a", "p0", c.c0, c.c1, 1, 1)
                                  : conv(g, rng, "stem", "a", "p0", c.c0, c.c1, 1, 3, c.stride, 1));
    g.nodes.push_back(node("pw0_act", "HardSwish", {"p0"}, {"p0a"}));
    t = "p0a";
  }
  g.nodes.push_back(conv(g, rng, "dw1", t, "d1", c.c1, c.c1, c.c1, c.k, c.stride, c.pad, c.dilation));
  g.nodes.push_back(node("dw1_act", "HardSwish", {"d1"}, {"d1a"}));
  t = "d1a";
  if (c.squeezeExcite) {
    const int64_t r = std::max<int64_t>(1, c.c1 / 4);
    g.nodes.push_back(node("se_pool", "GlobalAveragePool", {"d1a"}, {"sp"}));
    g.nodes.push_back(conv(g, rng, "se_reduce", "sp", "sr", c.c1, r, 1, 1));
    g.nodes.push_back(node("se_relu", "Relu", {"sr"}, {"srr"}));
    g.nodes.push_back(conv(g, rng, "se_expand", "srr", "se", r, c.c1, 1, 1));
    g.nodes.push_back(node("se_gate", "HardSigmoid", {"se"}, {"sg"}));
    g.nodes.push_back(node("se_scale", "Mul", {"d1a", "sg"}, {"ss"}));
    t = "ss";
  }
  g.nodes.push_back(conv(g, rng, "pw1", t, "q", c.c1, c.c2, 1, 1));
  if (c.prunedPw1) {
    Tensor& w = g.initializers["pw1.w"];
    for (int64_t i = 0; i < w.numel(); ++i)
      if (i % 10 != 0) w.f()[i] = 0.f;  // 90% pruned: the sparse NCHW kernels win there
  }
  g.nodes.push_back(node("pw1_act", "HardSwish", {"q"}, {"qa"}));
  g.nodes.push_back(conv(g, rng, "dw2", "qa", "e", c.c2, c.c2, c.c2, 3, 1, 1));
  g.nodes.push_back(conv(g, rng, "pw2", "e", "r", c.c2, c.c3, 1, 1));
  g.nodes.push_back(node("out", "Relu", {"r"}, {"z"}));
  ValueInfo out;
  out.name = "z";
  g.outputs = {out};
  return g;
}

int channelsLastLinks(const Executor& ex) { return testutil::countLines(ex.optimizationLog(), ": channels-last "); }

}  // namespace

class TestChannelsLast : public QObject {
  Q_OBJECT
 private slots:
  void regionMatchesStored_data() {
    QTest::addColumn<int>("caseIndex");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("threads");
    for (int c = 0; c < 10; ++c)
      for (int batch : {1, 5})
        for (int threads : {1, 2})
          QTest::newRow(qPrintable(QString("case%1 n%2 t%3").arg(c).arg(batch).arg(threads))) << c << batch << threads;
  }
  void regionMatchesStored() {
    QFETCH(int, caseIndex);
    QFETCH(int, batch);
    QFETCH(int, threads);
    const ChainCase cases[] = {
        {1, 3, 16, 32, 16, 3, 1, 1, 1, true, 9, 7, 5},        // the whole chain, odd plane
        {0, 32, 32, 48, 10, 3, 2, 1, 1, false, 14, 14, 2},    // depthwise reads NCHW; 10 outputs end it early
        {1, 8, 16, 16, 32, 5, 2, 2, 1, true, 11, 13, 5},      // 5x5 stride 2
        {1, 4, 24, 32, 16, 3, 1, 1, 1, true, 8, 8, 2},        // 24 channels: only the second half
        {0, 16, 16, 16, 16, 3, 1, 0, 2, true, 10, 12, 4},     // dilation 2, no padding
        {1, 16, 64, 96, 128, 3, 2, 1, 1, true, 7, 7, 5},      // mobilenet-tiny's last block sizes
        {1, 5, 10, 20, 30, 3, 1, 1, 1, true, 6, 6, 0},        // no multiple of 16 anywhere
        {2, 1, 16, 32, 16, 3, 1, 1, 1, true, 12, 10, 5},      // a stem starts the region
        {2, 1, 32, 16, 16, 5, 2, 2, 1, false, 9, 11, 4},      // stem and depthwise with stride 2
        {1, 3, 16, 32, 16, 3, 1, 1, 1, true, 9, 7, 2, true},  // pruned 1x1 in the middle: two short regions
    };
    const ChainCase& c = cases[caseIndex];
    std::mt19937 rng(static_cast<unsigned>(4200 + caseIndex));
    Graph g = chainGraph(c, rng);
    Tensor x = randomTensor({batch, c.c0, c.h, c.w}, rng, -2.f, 2.f);
    ExecutorOptions plain, fast;
    plain.threads = fast.threads = threads;
    fast.optimizeForInference = true;
    auto a = Executor::create(g, plain);
    auto b = Executor::create(g, fast);
    QVERIFY2(a.isOk(), a.isOk() ? "" : a.status().message().c_str());
    QVERIFY2(b.isOk(), b.isOk() ? "" : b.status().message().c_str());
    QCOMPARE(channelsLastLinks(*b.value()), c.links);
    QVERIFY((*a)->run(x).isOk());
    // Twice: the second run reuses the packed weights and scratch.
    for (int pass = 0; pass < 2; ++pass) {
      const Status st = (*b)->run(x);
      QVERIFY2(st.isOk(), st.message().c_str());
      QCOMPARE((*b)->output(0).shape(), (*a)->output(0).shape());
      const double diff = testutil::maxAbsDiff((*b)->output(0), (*a)->output(0));
      QVERIFY2(diff < 1e-4, qPrintable(QString("max difference %1").arg(diff)));
    }
    // Tensors stored channels-last are not offered by value() (their data
    // is [N,H,W,C] under an NCHW shape); the graph output is.
    int hidden = 0;
    for (size_t n = 0; n < (*b)->nodeCount(); ++n) {
      const Node& node = (*b)->runNode(n);
      if (node.attrInt("topiary.y_nhwc", 0) == 0 && node.attrInt("topiary.nhwc", 0) == 0) continue;
      ++hidden;
      QVERIFY((*b)->value(node.outputs[0]) == nullptr);
    }
    QCOMPARE(hidden, c.links);
    QVERIFY((*b)->value(g.outputs[0].name) != nullptr);
    double mag = 0;  // the output is not trivially zero
    for (int64_t i = 0; i < (*b)->output(0).numel(); ++i) mag = std::max(mag, double((*b)->output(0).f()[i]));
    QVERIFY(mag > 0.05);
  }
};

QTEST_APPLESS_MAIN(TestChannelsLast)
#include "test_channels_last.moc"
