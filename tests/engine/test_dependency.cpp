// Dependency groups found on hand-made patterns and on the built-in
// architectures: exact producers, consumers, members, slices and locks.
#include <QtTest>

#include "engine/test_dependency_helpers.h"
#include "topiary/arch.h"

using namespace topiary;
using namespace deptest;
using Set = std::set<std::string>;

namespace {

std::vector<DependencyGroup> groupsOf(const Graph& g) {
  auto r = buildDependencyGroups(g);
  if (!r.isOk()) qWarning("%s", r.status().message().c_str());
  return r.isOk() ? r.value() : std::vector<DependencyGroup>{};
}

bool hasSlice(const DependencyGroup& gr, const std::string& tensor, int axis, int64_t offset, int64_t inner,
              ChannelSlice::Kind kind) {
  for (const auto& s : gr.slices)
    if (s.tensor == tensor && s.axis == axis && s.offset == offset && s.inner == inner && s.kind == kind) return true;
  return false;
}

Graph withNode(Graph g, size_t at, Node n) {
  g.nodes.insert(g.nodes.begin() + static_cast<long>(at), std::move(n));
  return g;
}

}  // namespace

class TestDependency : public QObject {
  Q_OBJECT
 private slots:
  void roleTableCoversTheUsualOperators() {
    QCOMPARE(channelRoleOf("Conv"), ChannelRole::Producer);
    QCOMPARE(channelRoleOf("BatchNormalization"), ChannelRole::Passthrough);
    QCOMPARE(channelRoleOf("HardSwish"), ChannelRole::Passthrough);
    QCOMPARE(channelRoleOf("Add"), ChannelRole::Elementwise);
    QCOMPARE(channelRoleOf("Concat"), ChannelRole::Concat);
    QCOMPARE(channelRoleOf("Flatten"), ChannelRole::Reshape);
    QCOMPARE(channelRoleOf("Transpose"), ChannelRole::Transpose);
    QCOMPARE(channelRoleOf("LRN"), ChannelRole::Opaque);  // mixes neighbouring channels
    QCOMPARE(channelRoleOf("ReduceL2"), ChannelRole::Passthrough);  // axes checked per node
    QCOMPARE(channelRoleOf("Atan"), ChannelRole::Passthrough);
    QCOMPARE(channelRoleOf("Mod"), ChannelRole::Elementwise);
    QCOMPARE(channelRoleOf("NoSuchOp"), ChannelRole::Opaque);
    QCOMPARE(std::string(channelRoleName(ChannelRole::Elementwise)), std::string("elementwise"));
  }

  void chain() {
    auto groups = groupsOf(chainGraph());
    QCOMPARE(groups.size(), size_t(4));  // input channels, conv1, conv2, fc (locked: graph output)
    const DependencyGroup* g1 = producedBy(groups, "conv1");
    QVERIFY(g1);
    QVERIFY(!g1->locked);
    QCOMPARE(g1->channels, int64_t(8));
    QCOMPARE(asSet(g1->consumers), Set({"conv2"}));
    QCOMPARE(asSet(g1->members), Set({"conv1", "bn1", "relu1", "conv2"}));
    QCOMPARE(g1->slices.size(), size_t(7));  // conv1 W, B; bn1 x4; conv2 W axis 1
    QVERIFY(hasSlice(*g1, "conv1.weight", 0, 0, 1, ChannelSlice::Kind::ProducerOut));
    QVERIFY(hasSlice(*g1, "bn1.var", 0, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*g1, "conv2.weight", 1, 0, 1, ChannelSlice::Kind::ConsumerIn));
    const DependencyGroup* g2 = producedBy(groups, "conv2");
    QVERIFY(g2 && !g2->locked);
    QCOMPARE(asSet(g2->members), Set({"conv2", "gap", "flatten", "fc"}));
    QVERIFY(hasSlice(*g2, "fc.weight", 1, 0, 1, ChannelSlice::Kind::ConsumerIn));  // GAP -> [N,6]: no expansion
    const DependencyGroup* fc = producedBy(groups, "fc");
    QVERIFY(fc && fc->locked);
    QVERIFY(fc->lockReason.find("graph output") != std::string::npos);
    int in = groupConsumedBy(groups, chainGraph(), "conv1");
    QVERIFY(in >= 0);
    QVERIFY(groups[static_cast<size_t>(in)].locked);
    QVERIFY(groups[static_cast<size_t>(in)].lockReason.find("graph input 'input'") != std::string::npos);
    QCOMPARE(groupConsumedBy(groups, chainGraph(), "conv2"), g1->id);
  }

  void outputsWithoutDeclaredShapesStillLock() {
    Graph g = chainGraph();
    g.outputs[0].hasShape = false;
    g.outputs[0].dims.clear();
    auto groups = groupsOf(g);
    QVERIFY(producedBy(groups, "fc") && producedBy(groups, "fc")->locked);
    QVERIFY(!producedBy(groups, "conv2")->locked);
    QCOMPARE(g.outputs[0].hasShape, false);  // the caller's graph is not modified
  }

  void residualPartnersShareOneGroup() {
    auto groups = groupsOf(residualGraph());
    const DependencyGroup* g = producedBy(groups, "stem");
    QVERIFY(g && !g->locked);
    QCOMPARE(asSet(g->producers), Set({"stem", "convB"}));
    QCOMPARE(asSet(g->consumers), Set({"convA", "conv3"}));
    QCOMPARE(asSet(g->members),
             Set({"stem", "stem_bn", "stem_relu", "convA", "convB", "bnB", "add", "add_relu", "conv3"}));
    QCOMPARE(groupProducedBy(groups, "convB"), g->id);
    const DependencyGroup* a = producedBy(groups, "convA");
    QVERIFY(a && a != g);
    QCOMPARE(asSet(a->consumers), Set({"convB"}));
  }

  void concatOffsetsReachTheConsumer() {
    auto groups = groupsOf(concatGraph());
    const DependencyGroup* a = producedBy(groups, "convA");
    const DependencyGroup* b = producedBy(groups, "convB");
    QVERIFY(a && b && a != b && !a->locked && !b->locked);
    QCOMPARE(a->channels, int64_t(4));
    QCOMPARE(b->channels, int64_t(6));
    QVERIFY(hasSlice(*a, "cat_bn.scale", 0, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*b, "cat_bn.scale", 0, 4, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*a, "conv3.weight", 1, 0, 1, ChannelSlice::Kind::ConsumerIn));
    QVERIFY(hasSlice(*b, "conv3.weight", 1, 4, 1, ChannelSlice::Kind::ConsumerIn));
    QVERIFY(asSet(a->members).count("cat") && asSet(b->members).count("cat_relu"));
  }

  void concatThenFlattenMultipliesOffsets() {
    auto groups = groupsOf(concatFlattenGraph());
    const DependencyGroup* a = producedBy(groups, "convA");
    const DependencyGroup* b = producedBy(groups, "convB");
    QVERIFY(a && b && !a->locked && !b->locked);
    QVERIFY(hasSlice(*a, "fc.weight", 1, 0, 16, ChannelSlice::Kind::ConsumerIn));
    QVERIFY(hasSlice(*b, "fc.weight", 1, 32, 16, ChannelSlice::Kind::ConsumerIn));
  }

  void nestedConcat() {
    auto groups = groupsOf(nestedConcatGraph());
    const DependencyGroup* c = producedBy(groups, "convC");
    const DependencyGroup* b = producedBy(groups, "convB");
    QVERIFY(c && b && !c->locked && !b->locked);
    QVERIFY(hasSlice(*b, "bn.mean", 0, 2, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*c, "bn.mean", 0, 5, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*c, "conv3.weight", 1, 5, 1, ChannelSlice::Kind::ConsumerIn));
    QCOMPARE(asSet(c->members), Set({"convC", "poolC", "cat2", "bn", "relu", "conv3"}));
  }

  void matmulNeurons() {
    auto groups = groupsOf(matmulGraph());
    const DependencyGroup* n = producedBy(groups, "mm1");
    QVERIFY(n && !n->locked);
    QCOMPARE(n->channels, int64_t(6));
    QVERIFY(hasSlice(*n, "w1", 1, 0, 1, ChannelSlice::Kind::ProducerOut));
    QVERIFY(hasSlice(*n, "b1", 0, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*n, "w2", 0, 0, 1, ChannelSlice::Kind::ConsumerIn));
  }

  void concatAddedToAProducerLocks() {
    // Add(Concat(a, b), convC): the sum's channels mix two groups with a third.
    GraphBuilder gb("mix", 3);
    std::string x = gb.input("input", {3, 6, 6});
    std::string a = gb.conv(x, "convA", 3, 2, 1);
    std::string b = gb.conv(x, "convB", 3, 3, 1);
    std::string c = gb.conv(x, "convC", 3, 5, 1);
    std::string y = gb.node("Concat", "cat", {a, b}, {{"axis", Attribute::ofInt(1)}});
    y = gb.add(y, c, "sum");
    head(gb, y, 5);
    auto groups = groupsOf(gb.finish().value());
    for (const char* p : {"convA", "convB", "convC"}) {
      const DependencyGroup* g = producedBy(groups, p);
      QVERIFY2(g && g->locked, p);
      QVERIFY2(g->lockReason.find("combined by node 'cat'") != std::string::npos, g->lockReason.c_str());
    }
  }

  void passthroughOpsAndPerChannelConstants() {
    auto groups = groupsOf(passthroughMixGraph());
    const DependencyGroup* a = producedBy(groups, "conv1");
    QVERIFY2(a && !a->locked, a ? a->lockReason.c_str() : "no group");
    QVERIFY(hasSlice(*a, "slope", 0, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*a, "gain", 1, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*a, "divisor", 0, 0, 1, ChannelSlice::Kind::Param));
    QCOMPARE(asSet(a->members), Set({"conv1", "prelu", "scale", "div", "pool", "pad", "conv2"}));
    const DependencyGroup* b = producedBy(groups, "conv2");
    QVERIFY2(b && !b->locked, b ? b->lockReason.c_str() : "no group");
    QVERIFY(hasSlice(*b, "fc.weight", 0, 0, 1, ChannelSlice::Kind::ConsumerIn));  // transB=0: rows
    QCOMPARE(asSet(b->members), Set({"conv2", "mean", "squeeze", "fc"}));
    // The mask leaves the divisor alone (zero would give inf * 0 = NaN downstream).
    Graph g = passthroughMixGraph();
    QVERIFY(maskGroupChannels(g, *a, {1}).isOk());
    QCOMPARE(g.initializers.at("divisor").f()[1], 2.f);
    QCOMPARE(g.initializers.at("gain").f()[1], 0.f);
  }

  void padOnChannelsLocks() {
    Graph g = passthroughMixGraph();
    // Padding the batch axis keeps the graph runnable but is not per-channel.
    g.initializers.at("pads") = Tensor::fromVector<int64_t>({8}, {1, 0, 1, 1, 0, 0, 1, 1});
    g.valueInfo.clear();
    auto groups = groupsOf(g);
    const DependencyGroup* a = producedBy(groups, "conv1");
    QVERIFY(a && a->locked);
    QVERIFY2(a->lockReason.find("'pad' (Pad)") != std::string::npos &&
                 a->lockReason.find("pads the batch or channel axis") != std::string::npos,
             a->lockReason.c_str());
  }

  void depthwiseIsCoupled() {
    auto groups = groupsOf(depthwiseGraph());
    const DependencyGroup* g = producedBy(groups, "conv1");
    QVERIFY(g && !g->locked);
    QCOMPARE(asSet(g->producers), Set({"conv1"}));
    QCOMPARE(asSet(g->consumers), Set({"pw"}));
    QCOMPARE(g->attrUpdates, std::vector<std::string>({"dw"}));
    QVERIFY(hasSlice(*g, "dw.weight", 0, 0, 1, ChannelSlice::Kind::Param));
    QVERIFY(hasSlice(*g, "dw_bn.mean", 0, 0, 1, ChannelSlice::Kind::Param));
    QCOMPARE(groupProducedBy(groups, "dw"), -1);
  }

  void squeezeExciteIsCoupled() {
    auto groups = groupsOf(seGraph());
    const DependencyGroup* g = producedBy(groups, "conv1");
    QVERIFY(g && !g->locked);
    QCOMPARE(asSet(g->producers), Set({"conv1", "se_expand"}));
    QCOMPARE(asSet(g->consumers), Set({"se_reduce", "conv2"}));
    QVERIFY(asSet(g->members).count("se_scale") && asSet(g->members).count("se_gate"));
    const DependencyGroup* r = producedBy(groups, "se_reduce");
    QVERIFY(r && !r->locked);
    QCOMPARE(asSet(r->consumers), Set({"se_expand"}));
  }

  void flattenIntoGemmSlicesBlocksOfColumns() {
    for (bool viaReshape : {false, true}) {
      auto groups = groupsOf(flattenGemmGraph(viaReshape));
      const DependencyGroup* g = producedBy(groups, "conv1");
      QVERIFY(g && !g->locked);
      // fc1.weight is [10, 100] with transB=1: channel c owns columns [25c, 25c+25).
      QVERIFY(hasSlice(*g, "fc1.weight", 1, 0, 25, ChannelSlice::Kind::ConsumerIn));
      QCOMPARE(g->attrUpdates.size(), size_t(viaReshape ? 1 : 0));
      const DependencyGroup* n = producedBy(groups, "fc1");  // neurons
      QVERIFY(n && !n->locked);
      QCOMPARE(n->channels, int64_t(10));
      QVERIFY(hasSlice(*n, "fc1.weight", 0, 0, 1, ChannelSlice::Kind::ProducerOut));
      QVERIFY(hasSlice(*n, "fc1.bias", 0, 0, 1, ChannelSlice::Kind::ProducerOut));
      QVERIFY(hasSlice(*n, "fc2.weight", 1, 0, 1, ChannelSlice::Kind::ConsumerIn));
      ChannelSlice cols{"fc1.weight", "fc1", ChannelSlice::Kind::ConsumerIn, 1, 0, 25};
      auto e = sliceElementIndices({10, 100}, cols, 2);
      QCOMPARE(e.size(), size_t(250));
      QCOMPARE(e.front(), int64_t(50));
      QCOMPARE(e[25], int64_t(150));
    }
  }

  void untraceableOpsLockWithAReason() {
    // A Transpose between conv1 and conv2 of the chain.
    Graph g = chainGraph();
    int relu = g.findNode("relu1");
    Node t;
    t.name = "swap";
    t.opType = "Transpose";
    t.inputs = {"relu1"};
    t.outputs = {"swapped"};
    t.attrs["perm"] = Attribute::ofInts({0, 2, 1, 3});  // channels to axis 2
    g.nodes[static_cast<size_t>(g.findNode("conv2"))].inputs[0] = "swapped";
    g = withNode(g, static_cast<size_t>(relu) + 1, t);
    g.valueInfo.clear();
    auto groups = groupsOf(g);
    const DependencyGroup* g1 = producedBy(groups, "conv1");
    QVERIFY(g1 && g1->locked);
    QVERIFY2(g1->lockReason.find("'swap' (Transpose)") != std::string::npos, g1->lockReason.c_str());
    QVERIFY(!producedBy(groups, "conv2")->locked);  // after conv2 the channels are new again
    Graph locked = chainGraph();
    QVERIFY(pruneGroupChannels(locked, *g1, {0}).kind() == ErrorKind::BadInput);
  }

  // Channels-last (tf2onnx): a Transpose to NHWC keeps the channels, and a
  // Flatten of it interleaves them: channel c is rows c, c + C, c + 2C, ...
  void channelsLastFlattenInterleavesRows() {
    auto groups = groupsOf(nhwcFlattenGraph());
    const DependencyGroup* g = producedBy(groups, "conv1");
    QVERIFY(g);
    QVERIFY2(!g->locked, g->lockReason.c_str());
    QCOMPARE(asSet(g->consumers), Set({"fc1"}));
    QCOMPARE(g->attrUpdates, std::vector<std::string>({"flat"}));
    const ChannelSlice* rows = nullptr;
    for (const auto& s : g->slices)
      if (s.tensor == "fc1.weight") rows = &s;
    QVERIFY(rows);
    QCOMPARE(rows->axis, 0);
    QCOMPARE(rows->offset, int64_t(0));
    QCOMPARE(rows->inner, int64_t(1));
    QCOMPARE(rows->repeat, int64_t(25));
    QCOMPARE(rows->period, int64_t(4));
    QCOMPARE(sliceAxisIndices(*rows, 3), std::vector<int64_t>({3,  7,  11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51,
                                                               55, 59, 63, 67, 71, 75, 79, 83, 87, 91, 95, 99}));
    auto e = sliceElementIndices({100, 6}, *rows, 1);  // rows 1, 5, ...: 6 elements each
    QCOMPARE(e.size(), size_t(150));
    QCOMPARE(e[0], int64_t(6));
    QCOMPARE(e[6], int64_t(30));
    QCOMPARE(e.back(), int64_t(97 * 6 + 5));
    const DependencyGroup* n = producedBy(groups, "fc1");  // its neurons, as usual
    QVERIFY(n && !n->locked);
    QCOMPARE(n->channels, int64_t(6));
  }

  void channelsLastConcatKeepsOffsets() {
    auto groups = groupsOf(nhwcConcatFlattenGraph());
    for (const auto& [conv, offset] : {std::pair<const char*, int64_t>{"convA", 0}, {"convB", 2}}) {
      const DependencyGroup* g = producedBy(groups, conv);
      QVERIFY(g && !g->locked);
      bool found = false;
      for (const auto& s : g->slices)
        if (s.tensor == "fc.weight") {
          found = true;
          QCOMPARE(s.axis, 1);  // transB: columns
          QCOMPARE(s.offset, offset);
          QCOMPARE(s.inner, int64_t(1));
          QCOMPARE(s.repeat, int64_t(16));
          QCOMPARE(s.period, int64_t(5));
        }
      QVERIFY(found);
    }
  }

  void channelsLastRoundTripIsOneGroup() {
    auto groups = groupsOf(nhwcRoundTripGraph());
    const DependencyGroup* g = producedBy(groups, "conv1");
    QVERIFY(g && !g->locked);
    QCOMPARE(asSet(g->consumers), Set({"conv2"}));
    QVERIFY(asSet(g->members).count("act") && asSet(g->members).count("to_nchw"));
    QVERIFY(hasSlice(*g, "conv2.weight", 1, 0, 1, ChannelSlice::Kind::ConsumerIn));
  }

  // Only per-element ops, a Transpose back and Flatten are traced on a
  // channels-last tensor; anything with an axis or a partner locks.
  void channelsLastLocksWhatItCannotTrace() {
    struct Case {
      const char* op;
      std::vector<int64_t> perm;  // of a second Transpose instead of an op
      const char* reason;
    };
    for (const Case& c : {Case{"Softmax", {}, "channels-last"}, Case{"Add", {}, "channels-last"},
                          Case{"Transpose", {0, 2, 1, 3}, "moves the channel axis"}}) {
      GraphBuilder b("nhwc_lock", 7);
      std::string x = b.input("input", {3, 4, 4});
      x = b.conv(x, "conv1", 3, 4, 3, 1, 1);
      x = b.node("Transpose", "to_nhwc", {x}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
      if (std::string(c.op) == "Add")
        x = b.node("Add", "op", {x, x});
      else if (std::string(c.op) == "Transpose")
        x = b.node("Transpose", "op", {x}, {{"perm", Attribute::ofInts(c.perm)}});
      else
        x = b.node(c.op, "op", {x}, {{"axis", Attribute::ofInt(-1)}});
      b.output(b.gemm(b.flatten(x, "flat"), "fc", 64, 4), "logits", {4});
      Graph g = b.finish().value();
      auto groups = groupsOf(g);
      const DependencyGroup* gr = producedBy(groups, "conv1");
      QVERIFY(gr);
      QVERIFY2(gr->locked, c.op);
      QVERIFY2(gr->lockReason.find(c.reason) != std::string::npos, gr->lockReason.c_str());
    }
  }

  void groupedConvLocks() {
    GraphBuilder b("grouped", 3);
    std::string x = b.input("input", {3, 6, 6});
    x = b.relu(b.conv(x, "conv1", 3, 8, 3, 1, 1), "relu1");
    x = b.conv(x, "gconv", 8, 8, 3, 1, 1, 2);
    head(b, x, 8);
    auto groups = groupsOf(b.finish().value());
    const DependencyGroup* g1 = producedBy(groups, "conv1");
    QVERIFY(g1 && g1->locked);
    QVERIFY2(g1->lockReason.find("grouped convolution (group=2") != std::string::npos, g1->lockReason.c_str());
  }

  void resnet8Groups() {
    auto g = architecture("resnet8");
    QVERIFY2(g.isOk(), g.status().message().c_str());
    auto groups = groupsOf(g.value());
    int unlocked = 0;
    for (const auto& gr : groups) unlocked += gr.locked ? 0 : 1;
    QCOMPARE(unlocked, 6);
    const DependencyGroup* s1 = producedBy(groups, "stem");
    QVERIFY(s1 && !s1->locked);
    QCOMPARE(asSet(s1->producers), Set({"stem", "block1_conv2"}));
    QCOMPARE(asSet(s1->consumers), Set({"block1_conv1", "block2_conv1", "block2_proj"}));
    const DependencyGroup* s2 = producedBy(groups, "block2_conv2");
    QVERIFY(s2 && !s2->locked);
    QCOMPARE(asSet(s2->producers), Set({"block2_conv2", "block2_proj"}));
    QCOMPARE(asSet(s2->consumers), Set({"block3_conv1", "block3_proj"}));
    QVERIFY(asSet(s2->members).count("block2_add") && asSet(s2->members).count("block2_proj_bn"));
    const DependencyGroup* s3 = producedBy(groups, "block3_proj");
    QVERIFY(s3 && !s3->locked);
    QCOMPARE(asSet(s3->consumers), Set({"fc"}));
    QCOMPARE(s3->channels, int64_t(64));
    const DependencyGroup* inner = producedBy(groups, "block2_conv1");
    QVERIFY(inner && !inner->locked);
    QCOMPARE(asSet(inner->consumers), Set({"block2_conv2"}));
    QVERIFY(producedBy(groups, "fc")->locked);
  }

  void mobilenetGroups() {
    auto g = architecture("mobilenet-tiny");
    QVERIFY2(g.isOk(), g.status().message().c_str());
    auto groups = groupsOf(g.value());
    const DependencyGroup* s = producedBy(groups, "stem");
    QVERIFY(s && !s->locked);
    QCOMPARE(asSet(s->producers), Set({"stem", "block1_se_expand"}));
    QCOMPARE(asSet(s->consumers), Set({"block1_se_reduce", "block1_pw"}));
    QCOMPARE(s->attrUpdates, std::vector<std::string>({"block1_dw"}));
    const DependencyGroup* p = producedBy(groups, "block3_pw");
    QVERIFY(p && !p->locked);
    QCOMPARE(asSet(p->producers), Set({"block3_pw", "block4_se_expand"}));
    QCOMPARE(asSet(p->consumers), Set({"block4_se_reduce", "block4_pw"}));
    const DependencyGroup* r = producedBy(groups, "block2_se_reduce");
    QVERIFY(r && !r->locked);
    QCOMPARE(asSet(r->consumers), Set({"block2_se_expand"}));
    int unlocked = 0;
    for (const auto& gr : groups) unlocked += gr.locked ? 0 : 1;
    QCOMPARE(unlocked, 9);  // stem + 4 pointwise outputs + 4 SE hidden layers
  }

  void importanceAggregatesSlices() {
    Graph g = chainGraph();
    randomizeWeights(g, 5);
    auto groups = groupsOf(g);
    const DependencyGroup* g1 = producedBy(groups, "conv1");
    QVERIFY(g1);
    // Make channel 3 the weakest everywhere: tiny filter, BN gamma, consumer weights.
    for (const auto& s : g1->slices) {
      if (s.tensor == "bn1.var" || s.tensor == "bn1.mean") continue;
      Tensor& t = g.initializers.at(s.tensor);
      for (int64_t i : sliceElementIndices(t.shape(), s, 3)) t.f()[i] *= 1e-3f;
    }
    for (const char* crit : {"l1", "l2", "bn_scale"}) {
      ImportanceOptions o;
      o.criterion = crit;
      auto sc = groupImportance(g, *g1, o);
      QVERIFY2(sc.isOk(), sc.status().message().c_str());
      QCOMPARE(sc->size(), size_t(8));
      QCOMPARE(lowestChannels(sc.value(), 1), std::vector<int64_t>({3}));
    }
    ImportanceOptions l1;
    auto sum = groupImportance(g, *g1, l1);
    l1.producersOnly = true;
    auto prod = groupImportance(g, *g1, l1);
    double expected = 0;
    for (int64_t i : sliceElementIndices({8, 3, 3, 3}, g1->slices.front(), 0))
      expected += std::fabs(g.initializers.at("conv1.weight").f()[i]);
    expected += std::fabs(g.initializers.at("conv1.bias").f()[0]);
    QVERIFY(std::fabs(prod.value()[0] - expected) < 1e-5);
    QVERIFY(sum.value()[0] > prod.value()[0]);
    ImportanceOptions rnd;
    rnd.criterion = "random";
    auto r1 = groupImportance(g, *g1, rnd), r2 = groupImportance(g, *g1, rnd);
    QCOMPARE(r1.value(), r2.value());
    ImportanceOptions taylor;
    taylor.criterion = "taylor";
    QCOMPARE(groupImportance(g, *g1, taylor).status().kind(), ErrorKind::BadInput);
    ImportanceOptions bad;
    bad.criterion = "l7";
    QVERIFY(groupImportance(g, *g1, bad).status().message().find("'l7'") != std::string::npos);
    ImportanceOptions bn;
    bn.criterion = "bn_scale";
    QCOMPARE(groupImportance(g, *producedBy(groups, "conv2"), bn).status().kind(), ErrorKind::BadInput);
  }
};

QTEST_APPLESS_MAIN(TestDependency)
#include "test_dependency.moc"
