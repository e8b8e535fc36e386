// Recipes: parsing, validation errors that name the key and value, JSON
// round trip, resolution against a graph, every shipped example recipe.
#include <QtTest>

#include <QDir>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"

using namespace topiary;

namespace {
Graph lenet() { return testutil::architecture("lenet5"); }
}  // namespace

class TestRecipe : public QObject {
  Q_OBJECT
 private slots:
  void parsesDesignExample() {
    auto r = parseRecipe(R"({ "default":  {"granularity": "filter", "sparsity": 0.5, "criterion": "l1"},
      "layers":   {"conv2": {"granularity": "nm", "n": 2, "m": 4}, "fc3": {"sparsity": 0}},
      "method":   "magnitude",
      "schedule": {"kind": "agp", "steps": 5},
      "finetune": {"epochs": 2, "lr": 0.01, "data": "fashion-mnist:train"},
      "quantize": {"bits": 8, "per_channel": true} })");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->defaults.granularity, Granularity::Filter);
    QCOMPARE(r->defaults.sparsity, 0.5);
    QCOMPARE(*r->layers.at("conv2").granularity, Granularity::NM);
    QCOMPARE(*r->layers.at("fc3").sparsity, 0.0);
    QCOMPARE(r->schedule.kind, ScheduleKind::Agp);
    QCOMPARE(r->schedule.steps, 5);
    QCOMPARE(r->finetune.epochs, 2);
    QCOMPARE(QString::fromStdString(r->finetune.data), QString("fashion-mnist:train"));
    QCOMPARE(r->quantize.bits, 8);
  }

  void errorsNameKeyAndValue_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("expect1");
    QTest::addColumn<QString>("expect2");
    QTest::newRow("sparsity") << R"({"default": {"sparsity": 1.5}})" << "default.sparsity" << "1.5";
    QTest::newRow("n>=m") << R"({"layers": {"fc1": {"granularity": "nm", "n": 4, "m": 4}}})" << "layers.fc1.n" << "4";
    QTest::newRow("criterion") << R"({"default": {"criterion": "magic"}})" << "default.criterion" << "magic";
    QTest::newRow("granularity") << R"({"default": {"granularity": "block"}})" << "default.granularity" << "block";
    QTest::newRow("bits") << R"({"quantize": {"bits": 9}})" << "quantize.bits" << "9";
    QTest::newRow("unknown key") << R"({"default": {"sparsty": 0.5}})" << "default.sparsty" << "unknown";
    QTest::newRow("unknown top") << R"({"prune": {}})" << "prune" << "unknown";
    QTest::newRow("method") << R"({"method": "obd"})" << "method" << "obd";
    QTest::newRow("schedule") << R"({"schedule": {"kind": "cubic"}})" << "schedule.kind" << "cubic";
    QTest::newRow("lr") << R"({"finetune": {"lr": -1}})" << "finetune.lr" << "-1";
    QTest::newRow("type") << R"({"finetune": {"epochs": "two"}})" << "finetune.epochs" << "two";
    QTest::newRow("steps") << R"({"schedule": {"steps": 0}})" << "schedule.steps" << "0";
    // Positive, but 0 once stored as a 32-bit float: a saved recipe would not load.
    QTest::newRow("lr underflow") << R"({"finetune": {"lr": 1e-50}})" << "finetune.lr" << "too small";
    QTest::newRow("rho underflow") << R"({"admm": {"rho": 1e-40}})" << "admm.rho" << "too small";
    QTest::newRow("lr_schedule") << R"({"finetune": {"lr_schedule": "linear"}})" << "finetune.lr_schedule" << "linear";
    // Free-text keys must still be text (a number was accepted without a word).
    QTest::newRow("name number") << R"({"name": 123})"
                                 << "'name'"
                                 << "is not a string";
    QTest::newRow("name object") << R"({"name": {"v": 1}})"
                                 << "'name'"
                                 << "is not a string";
    QTest::newRow("comment number") << R"({"comment": 7})"
                                    << "'comment'"
                                    << "is not a string";
    // A one-shot schedule prunes once: steps were accepted and ignored.
    QTest::newRow("one-shot steps") << R"({"schedule": {"kind": "one-shot", "steps": 5}})"
                                    << "schedule.steps"
                                    << "one-shot";
    QTest::newRow("default kind steps") << R"({"schedule": {"steps": 3}})"
                                        << "schedule.steps"
                                        << "(the default)";
    QTest::newRow("iterative initial") << R"({"schedule": {"kind": "iterative", "steps": 3, "initial_sparsity": 0.2}})"
                                       << "schedule.initial_sparsity"
                                       << "iterative";
  }
  void errorsNameKeyAndValue() {
    QFETCH(QString, json);
    QFETCH(QString, expect1);
    QFETCH(QString, expect2);
    auto r = parseRecipe(json.toStdString());
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::BadInput);
    QString msg = QString::fromStdString(r.status().message());
    QVERIFY2(msg.contains(expect1), qPrintable(msg));
    QVERIFY2(msg.contains(expect2), qPrintable(msg));
  }

  void notJson() {
    auto r = parseRecipe("{ default: ");
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::BadInput);
  }

  void unknownLayerNamed() {
    Graph g = lenet();
    auto r = parseRecipe(R"({"layers": {"conv9": {"sparsity": 0.5}}})");
    QVERIFY(r.isOk());
    auto rr = resolveRecipe(g, r.value());
    QVERIFY(!rr.isOk());
    QVERIFY(rr.status().message().find("layers.conv9") != std::string::npos);
    QVERIFY(rr.status().message().find("conv1") != std::string::npos);  // lists the real names
  }

  void roundTrip() {
    auto r = parseRecipe(R"({"default": {"granularity": "element", "sparsity": 0.7, "criterion": "taylor"},
      "layers": {"fc1.weight": {"sparsity": 0.9}, "conv1": {"locked": true}}, "ranking": "global",
      "method": "dns", "dns": {"hysteresis": 0.2, "update_every": 5},
      "finetune": {"epochs": 3, "batch": 32, "max_batches": 10, "lr_schedule": "cosine"}, "quantize": {"bits": 2, "per_channel": false}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    auto back = recipeFromJson(recipeToJson(r.value()));
    QVERIFY2(back.isOk(), back.status().message().c_str());
    QCOMPARE(recipeToJson(back.value()).dump(), recipeToJson(r.value()).dump());
    QCOMPARE(back->method, PruneMethod::Dns);
    QCOMPARE(back->dns.updateEvery, 5);
    QCOMPARE(QString::fromStdString(back->finetune.lrSchedule), QString("cosine"));
    QCOMPARE(back->quantize.bits, 2);
    QVERIFY(!back->quantize.perChannel);
    QVERIFY(back->globalRanking);
    QCOMPARE(*back->layers.at("fc1.weight").sparsity, 0.9);
  }

  // Free text, a one-shot schedule with steps 1, and every shipped recipe
  // saved by recipeToJson (which writes steps 1 and initial_sparsity 0 for a
  // one-shot schedule) load again: refusing meaningless schedule values must
  // not refuse a recipe Topiary saved itself. The same holds for an nm
  // default's sparsity, which n:m overrides: recipeToJson saves 0 for the
  // shipped 2:4 recipes and the GUI saves its global sparsity, so a sparsity
  // that disagrees with n/m cannot be refused without refusing those.
  void savedRecipesLoadAgain_data() {
    QTest::addColumn<QString>("json");
    QTest::newRow("name and comment") << R"({"name": "lenet 80%", "comment": "", "default": {"sparsity": 0.8}})";
    QTest::newRow("one-shot steps 1") << R"({"schedule": {"kind": "one-shot", "steps": 1}})";
    QTest::newRow("oneshot spelling") << R"({"schedule": {"kind": "oneshot", "initial_sparsity": 0}})";
    QTest::newRow("as the GUI writes it")
        << R"({"default": {"granularity": "filter", "sparsity": 0.3, "criterion": "l1"},
      "layers": {}, "method": "magnitude", "ranking": "layer", "schedule": {"kind": "one-shot"}})";
    QTest::newRow("agp")
        << R"({"default": {"sparsity": 0.8}, "schedule": {"kind": "agp", "steps": 4, "initial_sparsity": 0.2}})";
    QTest::newRow("nm default as the GUI writes it")
        << R"({"default": {"granularity": "nm", "sparsity": 0.7, "criterion": "l1"},
      "layers": {"conv1": {"granularity": "nm", "criterion": "l1", "n": 1, "m": 4}}, "method": "magnitude",
      "ranking": "layer", "schedule": {"kind": "one-shot"}})";
    QDir dir(QString::fromStdString(testutil::sourcePath("resources/recipes")));
    for (const QString& f : dir.entryList({"*.json"}, QDir::Files)) {
      QFile file(dir.filePath(f));
      QVERIFY(file.open(QIODevice::ReadOnly));
      QTest::newRow(qPrintable("shipped " + f)) << QString::fromUtf8(file.readAll());
    }
  }
  void savedRecipesLoadAgain() {
    QFETCH(QString, json);
    auto r = parseRecipe(json.toStdString());
    QVERIFY2(r.isOk(), r.status().message().c_str());
    const nlohmann::json saved = recipeToJson(r.value());
    auto back = parseRecipe(saved.dump(2));
    QVERIFY2(back.isOk(), (back.status().message() + " in " + saved.dump()).c_str());
    QCOMPARE(recipeToJson(back.value()).dump(), saved.dump());
    if (r->schedule.kind == ScheduleKind::OneShot) QCOMPARE(saved["schedule"]["steps"].get<int>(), 1);
  }

  // The 32-bit settings are saved as written: a report's recipe.json read
  // "lr": 0.009999999776482582 for 0.01 (the float widened to a double).
  void savedFloatsReadAsWritten() {
    auto r = parseRecipe(R"({"method": "admm", "admm": {"rho": 0.003, "rho_growth": 1.3},
      "finetune": {"lr": 0.01}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    const std::string text = recipeToJson(r.value()).dump();
    for (const char* want : {"\"lr\":0.01,", "\"rho\":0.003,", "\"rho_growth\":1.3}"})
      QVERIFY2(text.find(want) != std::string::npos, (want + std::string(" not in ") + text).c_str());
    auto d = parseRecipe(R"({"method": "dns", "dns": {"hysteresis": 0.2}})");
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QVERIFY2(recipeToJson(d.value()).dump().find("\"hysteresis\":0.2,") != std::string::npos,
             recipeToJson(d.value()).dump().c_str());
    auto back = recipeFromJson(recipeToJson(r.value()));
    QVERIFY2(back.isOk(), back.status().message().c_str());
    QCOMPARE(back->finetune.lr, 0.01f);
    QCOMPARE(back->admm.rho, 0.003f);
  }

  // N:M settings in a default whose granularity is not nm still matter: a
  // layer that switches to nm inherits them, and they bound its own n or m.
  // A saved recipe keeps them (it used to drop them, so this one re-loaded
  // with 2:4 and then refused the layer's m = 2 as not above n).
  void roundTripKeepsInheritedNM() {
    auto r = parseRecipe(R"({"default": {"granularity": "filter", "sparsity": 0.5, "n": 1, "m": 2, "nm_pattern": "kernel"},
      "layers": {"conv2": {"granularity": "nm", "m": 2}}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    nlohmann::json saved = recipeToJson(r.value());
    QCOMPARE(saved["default"]["n"].get<int>(), 1);
    QCOMPARE(saved["default"]["m"].get<int>(), 2);
    auto back = recipeFromJson(saved);
    QVERIFY2(back.isOk(), back.status().message().c_str());
    QCOMPARE(back->defaults.n, 1);
    QCOMPARE(back->defaults.m, 2);
    QVERIFY(back->defaults.nmKernel);
    auto rr = resolveRecipe(lenet(), back.value());
    QVERIFY2(rr.isOk(), rr.status().message().c_str());
    bool found = false;
    for (const auto& [weight, c] : rr->config.layers)
      if (weight.find("conv2") != std::string::npos) {
        found = true;
        QCOMPARE(c.granularity, Granularity::NM);
        QCOMPARE(c.n, 1);
        QCOMPARE(c.m, 2);
        QVERIFY(c.nmKernel);
      }
    QVERIFY(found);
    // The built-in 2:4 tap pattern is still left out of a filter default.
    auto plain = parseRecipe(R"({"default": {"granularity": "filter", "sparsity": 0.5}})");
    QVERIFY(plain.isOk());
    QVERIFY(!recipeToJson(plain.value())["default"].contains("n"));
  }

  // bn_scale as the default on a network whose squeeze-excite groups have no
  // BatchNorm: those layers are left dense with a note (the shipped
  // bn-slimming recipe used to fail on mobilenet-tiny), BN groups are pruned;
  // bn_scale named for such a layer is an error naming the key.
  void bnScaleDefaultSkipsGroupsWithoutBatchNorm() {
    Graph g = testutil::architecture("mobilenet-tiny");
    auto r = parseRecipe(R"({"default": {"granularity": "filter", "sparsity": 0.3, "criterion": "bn_scale"}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    auto rr = resolveRecipe(g, r.value());
    QVERIFY2(rr.isOk(), rr.status().message().c_str());
    int skipped = 0;
    for (const auto& n : rr->notes)
      if (n.find("bn_scale does not apply") != std::string::npos) {
        ++skipped;
        QVERIFY2(n.find("se_reduce") != std::string::npos, n.c_str());
      }
    QCOMPARE(skipped, 4);  // block1..4_se_reduce
    QVERIFY(!rr->config.layers.count("block1_se_reduce"));
    QVERIFY(rr->config.layers.count("stem"));
    QCOMPARE(rr->config.layers.at("stem").criterion, Criterion::BnScale);
    // A model with no BatchNorm at all: nothing to rank, so an error, not a
    // recipe that silently prunes nothing.
    auto none = resolveRecipe(lenet(), r.value());
    QVERIFY(!none.isOk());
    QVERIFY2(none.status().message().find("default.criterion") != std::string::npos, none.status().message().c_str());
    auto named = parseRecipe(R"({"default": {"granularity": "filter", "sparsity": 0.3},
      "layers": {"block2_se_reduce": {"criterion": "bn_scale"}}})");
    QVERIFY(named.isOk());
    auto bad = resolveRecipe(g, named.value());
    QVERIFY(!bad.isOk());
    QCOMPARE(bad.status().kind(), ErrorKind::BadInput);
    QVERIFY2(bad.status().message().find("layers.block2_se_reduce.criterion") != std::string::npos,
             bad.status().message().c_str());
  }

  // bn_scale with a single-weight granularity names the recipe key that set
  // it, not the first layer of the model ("recipe: layer 'block1_dw': ...").
  void bnScaleOnWeightGranularityNamesTheKey_data() {
    QTest::addColumn<QString>("recipe");
    QTest::addColumn<QString>("key");
    QTest::newRow("default") << R"({"default": {"granularity": "element", "sparsity": 0.5, "criterion": "bn_scale"}})"
                             << "'default.criterion'";
    QTest::newRow("nm default") << R"({"default": {"granularity": "nm", "criterion": "bn_scale"}})"
                                << "'default.criterion'";
    QTest::newRow("layer granularity")
        << R"({"default": {"granularity": "filter", "sparsity": 0.5, "criterion": "bn_scale"},
              "layers": {"block2_pw": {"granularity": "element"}}})"
        << "'layers.block2_pw.granularity'";
    QTest::newRow("layer criterion") << R"({"default": {"granularity": "element", "sparsity": 0.5},
              "layers": {"block2_pw": {"criterion": "bn_scale"}}})"
                                     << "'layers.block2_pw.criterion'";
  }
  void bnScaleOnWeightGranularityNamesTheKey() {
    QFETCH(QString, recipe);
    QFETCH(QString, key);
    auto r = parseRecipe(recipe.toStdString());
    QVERIFY2(r.isOk(), r.status().message().c_str());
    auto rr = resolveRecipe(testutil::architecture("mobilenet-tiny"), r.value());
    QVERIFY(!rr.isOk());
    QCOMPARE(rr.status().kind(), ErrorKind::BadInput);
    const std::string msg = rr.status().message();
    QVERIFY2(msg.find("recipe key " + key.toStdString()) != std::string::npos, msg.c_str());
    QVERIFY2(msg.find("filter, channel or neuron") != std::string::npos, msg.c_str());
  }

  // dns with a granularity other than element names the recipe key that set
  // it, not the first layer of the model it reached ("layer 'conv1' has
  // granularity 'filter'" for a default the user wrote once).
  void dnsOnNonElementGranularityNamesTheKey_data() {
    QTest::addColumn<QString>("recipe");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("granularity");
    QTest::newRow("default") << R"({"default": {"granularity": "filter", "sparsity": 0.5}})"
                             << "'default.granularity'"
                             << "'filter'";
    QTest::newRow("default, layer sparsity")
        << R"({"default": {"granularity": "nm"}, "layers": {"fc1": {"sparsity": 0.5}}})"
        << "'default.granularity'"
        << "'nm'";
    QTest::newRow("layer") << R"({"default": {"sparsity": 0.5}, "layers": {"fc1": {"granularity": "neuron"}}})"
                           << "'layers.fc1.granularity'"
                           << "'neuron'";
    QTest::newRow("layer by weight")
        << R"({"default": {"sparsity": 0.5}, "layers": {"fc2.weight": {"granularity": "neuron"}}})"
        << "'layers.fc2.weight.granularity'"
        << "'neuron'";
  }
  void dnsOnNonElementGranularityNamesTheKey() {
    QFETCH(QString, recipe);
    QFETCH(QString, key);
    QFETCH(QString, granularity);
    nlohmann::json j = nlohmann::json::parse(recipe.toStdString());
    j["method"] = "dns";
    j["finetune"] = {{"epochs", 1}};
    auto r = recipeFromJson(j);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    Dataset data;  // the error comes before any training
    PruneRunOptions o;
    o.trainData = &data;
    auto run = runRecipe(lenet(), r.value(), o);
    QVERIFY(!run.isOk());
    QCOMPARE(run.status().kind(), ErrorKind::BadInput);
    const QString msg = QString::fromStdString(run.status().message());
    QVERIFY2(msg.startsWith("recipe key " + key), qPrintable(msg));
    QVERIFY2(msg.contains(granularity) && msg.contains("element"), qPrintable(msg));
  }

  void resolveAdaptsDefault() {
    Graph g = lenet();
    auto r = parseRecipe(R"({"default": {"granularity": "filter", "sparsity": 0.5},
                            "layers": {"fc1.weight": {"sparsity": 0.25}, "conv1": {"locked": true}}})");
    QVERIFY(r.isOk());
    auto rr = resolveRecipe(g, r.value());
    QVERIFY2(rr.isOk(), rr.status().message().c_str());
    const auto& L = rr->config.layers;
    QCOMPARE(L.at("conv2").granularity, Granularity::Filter);
    QCOMPARE(L.at("fc1").granularity, Granularity::Neuron);  // filter on a Gemm means neuron
    QCOMPARE(L.at("fc1").sparsity, 0.25);                   // named by weight initializer
    QVERIFY(L.at("conv1").locked);
    QVERIFY(!L.count("fc3"));  // the logits' outputs cannot be pruned: left dense with a note
    QVERIFY(!rr->notes.empty());
    // Explicitly asking for it is an error naming the layer.
    auto bad = parseRecipe(R"({"layers": {"fc3": {"granularity": "neuron", "sparsity": 0.5}}})");
    QVERIFY(bad.isOk());
    auto br = resolveRecipe(g, bad.value());
    QVERIFY(!br.isOk());
    QVERIFY(br.status().message().find("fc3") != std::string::npos);
  }

  void kernelOnGemmExplicitIsError() {
    Graph g = lenet();
    auto r = parseRecipe(R"({"layers": {"fc1": {"granularity": "kernel", "sparsity": 0.5}}})");
    QVERIFY(r.isOk());
    auto rr = resolveRecipe(g, r.value());
    QVERIFY(!rr.isOk());
    QVERIFY(rr.status().message().find("kernel") != std::string::npos);
  }

  void layerGranularityRemovesNodes() {
    auto g = buildArchitecture("resnet8");
    QVERIFY(g.isOk());
    auto r = parseRecipe(R"({"layers": {"block1_add": {"granularity": "layer", "sparsity": 0.5}}})");
    QVERIFY(r.isOk());
    auto res = runRecipe(g.value(), r.value());
    QVERIFY2(res.isOk(), res.status().message().c_str());
    QVERIFY(res->structural);
    QVERIFY(res->removed.findNode("block1_add") < 0);
    QVERIFY(res->removed.findNode("block1_conv1") < 0);  // the residual branch went with it
    QVERIFY(res->removed.paramCount() < g->paramCount());
    auto bad = parseRecipe(R"({"layers": {"nosuchnode": {"granularity": "layer", "sparsity": 0.5}}})");
    QVERIFY(bad.isOk());
    auto br = runRecipe(g.value(), bad.value());
    QVERIFY(!br.isOk());
    QVERIFY(br.status().message().find("nosuchnode") != std::string::npos);
    // No sparsity (the default's 0): kept, and a note says why and what removes it.
    auto kept = parseRecipe(R"({"layers": {"block1_add": {"granularity": "layer"}}})");
    QVERIFY(kept.isOk());
    auto kr = runRecipe(g.value(), kept.value());
    QVERIFY2(kr.isOk(), kr.status().message().c_str());
    QVERIFY(!kr->structural);
    QVERIFY(kr->removed.findNode("block1_add") >= 0);
    bool noted = false;
    for (const auto& line : kr->log) noted |= line.rfind("block1_add: granularity 'layer' with sparsity 0", 0) == 0;
    QVERIFY(noted);
  }

  void shippedRecipesParse() {
    QDir dir(QString::fromStdString(testutil::sourcePath("resources/recipes")));
    QStringList files = dir.entryList({"*.json"}, QDir::Files);
    QVERIFY(files.size() >= 8);
    for (const QString& f : files) {
      auto r = loadRecipe(dir.filePath(f).toStdString());
      QVERIFY2(r.isOk(), qPrintable(f + ": " + QString::fromStdString(r.status().message())));
      // A recipe written for one demo model names it in its file name and is resolved against it.
      std::string arch = "lenet5";
      for (const char* a : {"mobilenet-tiny", "resnet8", "lenet5-caffe", "lenet-300-100"})
        if (f.contains(a)) {
          arch = a;
          break;
        }
      Graph g = testutil::architecture(arch);
      auto rr = resolveRecipe(g, r.value());
      QVERIFY2(rr.isOk() || r->defaults.criterion == Criterion::BnScale,
               qPrintable(f + ": " + QString::fromStdString(rr.status().message())));
    }
  }
};

QTEST_APPLESS_MAIN(TestRecipe)
#include "test_recipe.moc"
