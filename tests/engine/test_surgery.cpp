// Group surgery: removing channels physically gives the same outputs as
// masking them (every pattern and architecture), a smaller model that passes
// the ONNX checker, saves, reloads and runs in ONNX Runtime.
#include <QtTest>

#include <cstdio>

#include "common/ort_util.h"
#include "common/test_util.h"
#include "engine/test_dependency_helpers.h"
#include "topiary/metrics.h"
#include "topiary/onnx_io.h"

using namespace topiary;
using namespace deptest;

namespace {

struct Case {
  std::string name;
  Graph graph;
};

std::vector<Case> allCases() {
  std::vector<Case> cases = {{"chain", chainGraph()},
                             {"residual", residualGraph()},
                             {"concat", concatGraph()},
                             {"depthwise", depthwiseGraph()},
                             {"se", seGraph()},
                             {"flatten_gemm", flattenGemmGraph(false)},
                             {"reshape_gemm", flattenGemmGraph(true)},
                             {"concat_flatten", concatFlattenGraph()},
                             {"nested_concat", nestedConcatGraph()},
                             {"matmul", matmulGraph()},
                             {"passthrough_mix", passthroughMixGraph()},
                             {"nhwc_flatten", nhwcFlattenGraph()},
                             {"nhwc_concat_flatten", nhwcConcatFlattenGraph()},
                             {"nhwc_round_trip", nhwcRoundTripGraph()}};
  for (const char* a : {"lenet5", "lenet-300-100", "resnet8", "mobilenet-tiny", "vgg-small"}) {
    auto g = architecture(a);
    if (g.isOk()) cases.push_back({a, g.value()});
    else qWarning("%s: %s", a, g.status().message().c_str());
  }
  for (size_t i = 0; i < cases.size(); ++i) randomizeWeights(cases[i].graph, 100 + i);
  return cases;
}

// Prunes every unlocked group by `pick` on one copy and masks the same
// channels on another; groups are rebuilt after each surgery and matched by
// their root tensor (a group's channel indices are not changed by surgery on
// other groups).
struct Pruned {
  Graph masked, cut;
  int groups = 0;
  std::string error;
};
Pruned pruneEverything(const Graph& g) {
  Pruned out{g, g, 0, {}};
  auto groups = buildDependencyGroups(g);
  if (!groups) return out.error = groups.status().message(), out;
  for (const auto& gr : groups.value()) {
    if (gr.locked) continue;
    auto pick = everyOther(gr.channels);
    Status m = maskGroupChannels(out.masked, gr, pick);
    if (!m.isOk()) return out.error = m.message(), out;
    auto now = buildDependencyGroups(out.cut);
    if (!now) return out.error = now.status().message(), out;
    int id = -1;
    for (const auto& n : now.value())
      if (n.rootTensor == gr.rootTensor) id = n.id;
    if (id < 0) return out.error = "group " + gr.rootTensor + " vanished after surgery", out;
    Status s = pruneGroupChannels(out.cut, now.value()[static_cast<size_t>(id)], pick);
    if (!s.isOk()) return out.error = s.message(), out;
    ++out.groups;
  }
  return out;
}

}  // namespace

class TestSurgery : public QObject {
  Q_OBJECT
 private slots:
  void eachGroupAloneMatchesItsMask() {
    for (const auto& c : allCases()) {
      auto groups = buildDependencyGroups(c.graph);
      QVERIFY2(groups.isOk(), (c.name + ": " + groups.status().message()).c_str());
      Tensor x = randomInput(c.graph, 2, 9);
      int tested = 0, changed = 0;
      for (const auto& gr : groups.value()) {
        if (gr.locked) continue;
        Graph masked = c.graph, cut = c.graph;
        auto pick = everyOther(gr.channels);
        QVERIFY(maskGroupChannels(masked, gr, pick).isOk());
        Status st = pruneGroupChannels(cut, gr, pick);
        std::string where = c.name + " group " + gr.rootTensor;
        QVERIFY2(st.isOk(), (where + ": " + st.message()).c_str());
        std::string err;
        Tensor a = runGraph(masked, x, &err), b = runGraph(cut, x, &err);
        QVERIFY2(a.numel() > 0 && b.numel() > 0, (where + ": " + err).c_str());
        double d = testutil::maxAbsDiff(a, b);
        QVERIFY2(d < 1e-4, (where + ": max abs diff " + std::to_string(d)).c_str());
        // The mask changes the function unless the channels happened to be
        // dead for this input (e.g. always negative before a ReLU).
        changed += testutil::maxAbsDiff(a, runGraph(c.graph, x)) > 1e-6 ? 1 : 0;
        QVERIFY(cut.paramCount() < c.graph.paramCount());
        ++tested;
      }
      QVERIFY2(tested > 0, c.name.c_str());
      QVERIFY2(2 * changed >= tested, (c.name + ": the masks changed the outputs of only " + std::to_string(changed) +
                                       " of " + std::to_string(tested) + " groups").c_str());
    }
  }

  void everyGroupAtOnceIsValidSmallerAndEquivalent() {
    const bool ort = testutil::ortUnavailableReason().empty();
    std::vector<testutil::OrtJob> jobs;  // one Node process for all models
    std::vector<NamedTensor> expected;
    for (const auto& c : allCases()) {
      Pruned p = pruneEverything(c.graph);
      QVERIFY2(p.error.empty(), (c.name + ": " + p.error).c_str());
      Tensor x = randomInput(c.graph, 3, 11);
      Tensor a = runGraph(p.masked, x), b = runGraph(p.cut, x);
      QVERIFY2(b.numel() > 0, c.name.c_str());
      double d = testutil::maxAbsDiff(a, b);
      QVERIFY2(d < 1e-4, (c.name + ": max abs diff " + std::to_string(d)).c_str());
      Status chk = checkModel(p.cut);
      QVERIFY2(chk.isOk(), (c.name + ": " + chk.message()).c_str());
      auto before = measureModel(c.graph), after = measureModel(p.cut);
      QVERIFY(before.isOk() && after.isOk());
      QVERIFY2(after->params < before->params, c.name.c_str());
      QVERIFY2(after->flops < before->flops, c.name.c_str());
      std::string path = testutil::tempDir() + "/" + c.name + "_pruned.onnx";
      QVERIFY(saveModel(p.cut, path).isOk());
      auto back = loadModel(path);
      QVERIFY2(back.isOk(), back.status().message().c_str());
      QCOMPARE(testutil::maxAbsDiff(runGraph(back.value(), x), b), 0.0);
      if (ort) {
        testutil::OrtJob job;
        job.model = path;
        job.inputs = {{c.graph.inputs[0].name, x}};
        jobs.push_back(job);
        expected.push_back({c.name, b});
      }
      qInfo("%-14s groups %2d  params %7lld -> %7lld  flops %10.0f -> %10.0f", c.name.c_str(), p.groups,
            static_cast<long long>(before->params), static_cast<long long>(after->params), before->flops,
            after->flops);
    }
    auto reports = testutil::runOrtJobs(jobs);
    QCOMPARE(reports.size(), expected.size());
    for (size_t i = 0; i < reports.size(); ++i) {
      const std::string& name = expected[i].name;
      QVERIFY2(reports[i].error.empty(), (name + ": " + reports[i].error).c_str());
      QVERIFY(!reports[i].outputs.empty());
      double od = testutil::maxAbsDiff(reports[i].outputs[0].tensor, expected[i].tensor);
      QVERIFY2(od < 1e-4, (name + ": ONNX Runtime differs by " + std::to_string(od)).c_str());
    }
    if (!ort) QSKIP(("ONNX Runtime comparison skipped: " + testutil::ortUnavailableReason()).c_str());
  }

  void depthwiseGroupCountFollowsTheChannels() {
    Graph g = depthwiseGraph();
    auto groups = buildDependencyGroups(g);
    const DependencyGroup* gr = producedBy(groups.value(), "conv1");
    QVERIFY(pruneGroupChannels(g, *gr, {0, 2, 5}).isOk());
    const Node& dw = g.nodes[static_cast<size_t>(g.findNode("dw"))];
    QCOMPARE(dw.attrInt("group", 0), int64_t(5));
    QCOMPARE(g.initializers.at("dw.weight").shape(), Shape({5, 1, 3, 3}));
    QCOMPARE(g.initializers.at("pw.weight").shape(), Shape({6, 5, 1, 1}));
    QCOMPARE(g.initializers.at("dw_bn.var").shape(), Shape({5}));
  }

  void flattenAndReshapeColumnsAreRemoved() {
    for (bool viaReshape : {false, true}) {
      Graph g = flattenGemmGraph(viaReshape);
      randomizeWeights(g, 3);
      auto groups = buildDependencyGroups(g);
      const DependencyGroup* gr = producedBy(groups.value(), "conv1");
      // Keep channel 2 only: fc1 keeps columns 50..74 of the original.
      Tensor w = g.initializers.at("fc1.weight");
      QVERIFY(pruneGroupChannels(g, *gr, {0, 1, 3}).isOk());
      const Tensor& nw = g.initializers.at("fc1.weight");
      QCOMPARE(nw.shape(), Shape({10, 25}));
      QCOMPARE(nw.f()[0], w.f()[50]);
      QCOMPARE(nw.f()[25 + 24], w.f()[100 + 74]);
      if (viaReshape) {
        const Node& r = g.nodes[static_cast<size_t>(g.findNode("flat"))];
        QCOMPARE(g.initializers.at(r.input(1)).toInt64s(), std::vector<int64_t>({0, -1}));
      }
    }
  }

  void neuronsOfAGemm() {
    Graph g = flattenGemmGraph(false);
    auto groups = buildDependencyGroups(g);
    const DependencyGroup* n = producedBy(groups.value(), "fc1");
    QVERIFY(pruneGroupChannels(g, *n, {0, 9}).isOk());
    QCOMPARE(g.initializers.at("fc1.weight").shape(), Shape({8, 100}));
    QCOMPARE(g.initializers.at("fc1.bias").shape(), Shape({8}));
    QCOMPARE(g.initializers.at("fc2.weight").shape(), Shape({4, 8}));
  }

  void badRequestsLeaveTheGraphUntouched() {
    Graph g = chainGraph();
    const Graph original = g;
    auto groups = buildDependencyGroups(g);
    const DependencyGroup* gr = producedBy(groups.value(), "conv1");
    Status s = pruneGroupChannels(g, *gr, {8});
    QCOMPARE(s.kind(), ErrorKind::BadInput);
    QVERIFY2(s.message().find("channel 8 is out of range") != std::string::npos, s.message().c_str());
    QVERIFY(pruneGroupChannels(g, *gr, {1, 1}).message().find("twice") != std::string::npos);
    QVERIFY(pruneGroupChannels(g, *gr, {0, 1, 2, 3, 4, 5, 6, 7}).message().find("keep at least one") !=
            std::string::npos);
    QCOMPARE(g.initializers.at("conv1.weight").shape(), original.initializers.at("conv1.weight").shape());
    QVERIFY(pruneGroupChannels(g, *gr, {7}).isOk());
    Status stale = pruneGroupChannels(g, *gr, {7});  // the group still says 8 channels
    QCOMPARE(stale.kind(), ErrorKind::BadInput);
    QVERIFY2(stale.message().find("stale") != std::string::npos, stale.message().c_str());
    const DependencyGroup* fc = producedBy(groups.value(), "fc");
    QVERIFY(pruneGroupChannels(g, *fc, {0}).message().find("graph output") != std::string::npos);
  }

  void resnet8HalfOfEveryGroup() {
    auto base = architecture("resnet8");
    QVERIFY(base.isOk());
    Graph g = base.value();
    randomizeWeights(g, 21);
    auto removed = pruneAllGroups(g, 0.5);
    QVERIFY2(removed.isOk(), removed.status().message().c_str());
    // 16 + 16 + 32 + 32 + 64 + 64 channels in the six groups, half of each.
    QCOMPARE(removed.value(), int64_t(112));
    auto before = measureModel(base.value()), after = measureModel(g);
    QVERIFY(before.isOk() && after.isOk());
    QVERIFY(checkModel(g).isOk());
    double pr = static_cast<double>(after->params) / static_cast<double>(before->params);
    double fr = after->flops / before->flops;
    // Conv weights shrink on both axes: about a quarter of the parameters remain.
    QVERIFY2(pr > 0.2 && pr < 0.35, std::to_string(pr).c_str());
    QVERIFY2(fr > 0.2 && fr < 0.35, std::to_string(fr).c_str());
    qInfo("resnet8 50%% filters: params %lld -> %lld (%.3f), flops %.0f -> %.0f (%.3f)",
          static_cast<long long>(before->params), static_cast<long long>(after->params), pr, before->flops,
          after->flops, fr);
    QCOMPARE(g.initializers.at("block3_conv2.weight").shape(), Shape({32, 32, 3, 3}));
    QCOMPARE(g.initializers.at("fc.weight").shape(), Shape({10, 32}));
  }

  void removesAResidualBranch() {
    auto base = architecture("resnet8");
    QVERIFY(base.isOk());
    Graph g = base.value();
    randomizeWeights(g, 4);
    // Reference: a branch whose last BN has gamma = beta = 0 adds exactly zero.
    Graph silenced = g;
    silenced.initializers.at("block1_conv2_bn.scale").setZero();
    silenced.initializers.at("block1_conv2_bn.bias").setZero();
    Graph cut = g;
    Status st = removeLayer(cut, "block1_add");
    QVERIFY2(st.isOk(), st.message().c_str());
    for (const char* gone : {"block1_conv1", "block1_conv1_bn", "block1_relu1", "block1_conv2", "block1_add"})
      QCOMPARE(cut.findNode(gone), -1);
    QVERIFY(cut.findNode("block1_relu2") >= 0);
    QCOMPARE(g.paramCount() - cut.paramCount(), int64_t(2 * (16 * 16 * 9) + 2 * 4 * 16));
    QVERIFY(checkModel(cut).isOk());
    Tensor x = randomInput(g, 2, 5);
    double d = testutil::maxAbsDiff(runGraph(cut, x), runGraph(silenced, x));
    QVERIFY2(d < 1e-5, std::to_string(d).c_str());
    // With a projection shortcut the projection is what remains.
    Graph proj = g;
    QVERIFY(removeLayer(proj, "block2_add").isOk());
    QCOMPARE(proj.findNode("block2_conv1"), -1);
    QVERIFY(proj.findNode("block2_proj") >= 0);
    QVERIFY(runGraph(proj, x).numel() == 2 * 10);
  }

  void refusesShapeChangingLayers() {
    auto base = architecture("resnet8");
    Graph g = base.value();
    Status st = removeLayer(g, "block2_conv1");
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY2(st.message().find("would change its output [1,32,14,14]") != std::string::npos, st.message().c_str());
    QVERIFY(st.message().find("[1,16,28,28]") != std::string::npos);
    QCOMPARE(g.nodes.size(), base->nodes.size());
    QVERIFY(removeLayer(g, "nope").message().find("no node named 'nope'") != std::string::npos);
    auto names = removableLayers(g);
    std::set<std::string> s(names.begin(), names.end());
    QVERIFY(s.count("block1_add") && s.count("block1_relu1") && s.count("block1_conv2") && s.count("block3_add"));
    QVERIFY(!s.count("block2_conv1") && !s.count("fc") && !s.count("gap"));
    QVERIFY(checkLayerRemoval(g, "block1_conv1_bn").isOk());
    QVERIFY(removeLayer(g, "block1_conv1_bn").isOk());
    QCOMPARE(g.initializers.count("block1_conv1_bn.scale"), size_t(0));
  }

  void removingTheOutputLayerKeepsTheOutputName() {
    GraphBuilder b("tail", 3);
    std::string x = b.input("input", {2, 4, 4});
    x = b.conv(x, "conv", 2, 3, 3, 1, 1);
    b.output(b.relu(x, "relu"), "out", {3, 4, 4});
    Graph g = b.finish().value();
    randomizeWeights(g, 2);
    Graph cut = g;
    Status st = removeLayer(cut, "relu");
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(cut.outputs[0].name, std::string("out"));
    QCOMPARE(cut.nodes.back().opType, std::string("Identity"));
    Tensor x0 = randomInput(g, 1, 3);
    Graph convOnly = g;
    convOnly.nodes.back().opType = "Identity";
    QCOMPARE(testutil::maxAbsDiff(runGraph(cut, x0), runGraph(convOnly, x0)), 0.0);
    QVERIFY(checkModel(cut).isOk());
  }
};

QTEST_APPLESS_MAIN(TestSurgery)
#include "test_surgery.moc"
