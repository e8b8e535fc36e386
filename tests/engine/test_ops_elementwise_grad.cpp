// backward() of the elementwise operators against central finite
// differences (float64 loss, eps 1e-3), including the reductions over
// broadcast dimensions of Add/Sub/Mul/Div/Pow.
#include <QtTest>

#include "test_ops_elementwise_common.h"

using namespace topiary;
using namespace ewtest;

class TestOpsElementwiseGrad : public QObject {
  Q_OBJECT
 private slots:
  void binaryBroadcastGradients_data() {
    QTest::addColumn<QString>("op");
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"}) QTest::newRow(op) << QString(op);
  }
  void binaryBroadcastGradients() {
    QFETCH(QString, op);
    const std::string name = op.toStdString();
    std::mt19937 rng(21);
    const std::vector<std::pair<Shape, Shape>> pairs = {
        {{2, 3, 4, 5}, {5}}, {{2, 3, 4, 5}, {3, 1, 1}}, {{2, 3, 4, 5}, {1}},    {{2, 3, 4, 5}, {2, 1, 4, 1}},
        {{2, 3, 4, 5}, {}},  {{3, 1, 1}, {2, 3, 4, 5}}, {{3, 1, 5}, {1, 4, 1}}, {{2, 3}, {2, 3}}};
    for (const auto& [sa, sb] : pairs) {
      Tensor A = randomTensor(rng, sa, name == "Pow" ? 0.5f : -2.f, 2.f);
      Tensor B = randomTensor(rng, sb, name == "Pow" ? -1.5f : -2.f, 2.f, {0.f}, 0.5f);
      auto k = build(name, {}, {&A, &B});
      QVERIFY(k && k->hasBackward());
      double worst = gradCheck(*k, {A, B}, {0, 1}, rng);
      QVERIFY2(worst < 1e-2, (shapeToString(sa) + " " + shapeToString(sb) + ": " + std::to_string(worst)).c_str());
    }
  }

  void legacyAxisBroadcastGradient() {
    std::mt19937 rng(22);
    Tensor A = randomTensor(rng, {2, 3, 4}), B = randomTensor(rng, {3}, 0.5f, 2.f);
    auto k = build("Div", {{"broadcast", Attribute::ofInt(1)}, {"axis", Attribute::ofInt(1)}}, {&A, &B}, 1, 6);
    QVERIFY(k);
    QVERIFY(gradCheck(*k, {A, B}, {0, 1}, rng) < 1e-2);
  }

  void unaryGradients_data() {
    QTest::addColumn<QString>("op");
    for (const char* op :
         {"Relu",       "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",     "Sqrt", "Exp",
          "Log",        "Neg",       "Abs",     "Reciprocal",  "Erf",       "Identity", "Clip", "Softmax",
          "LogSoftmax", "Elu",       "Selu",    "Softplus",    "Softsign",  "Sin",      "Cos"})
      QTest::newRow(op) << QString(op);
  }
  void unaryGradients() {
    QFETCH(QString, op);
    const std::string name = op.toStdString();
    std::mt19937 rng(23);
    Attrs attrs;
    float lo = -4.f, hi = 4.f;
    std::vector<float> kinks{0.f};
    if (name == "LeakyRelu") attrs["alpha"] = Attribute::ofFloat(0.2f);
    if (name == "HardSigmoid") kinks = {-2.5f, 2.5f};
    if (name == "HardSwish") kinks = {-3.f, 3.f};
    if (name == "Sqrt" || name == "Log") lo = 0.3f;
    for (int opset : {11, 14}) {
      if (name == "HardSwish" && opset < 14) continue;  // introduced in opset 14
      Tensor X = randomTensor(rng, {2, 3, 4}, lo, hi, kinks, 0.05f);
      std::vector<Tensor> in{X};
      if (name == "Clip" && opset >= 11) {
        in.push_back(Tensor::scalar(-1.f));
        in.push_back(Tensor::scalar(1.5f));
        for (int64_t i = 0; i < X.numel(); ++i)
          if (std::fabs(in[0].at(i) + 1.f) < 0.05f || std::fabs(in[0].at(i) - 1.5f) < 0.05f) in[0].at(i) += 0.2f;
      }
      std::vector<const Tensor*> ptrs;
      for (auto& t : in) ptrs.push_back(&t);
      Attrs a = attrs;
      if (name == "Softmax" || name == "LogSoftmax") a["axis"] = Attribute::ofInt(1);
      auto k = build(name, a, ptrs, 1, opset);
      QVERIFY(k && k->hasBackward());
      std::vector<size_t> check{0};
      if (name == "Clip") check = {0, 1, 2};
      double worst = gradCheck(*k, in, check, rng);
      QVERIFY2(worst < 1e-2, (name + " opset " + std::to_string(opset) + ": " + std::to_string(worst)).c_str());
    }
  }

  void preluAndWhereGradients() {
    std::mt19937 rng(25);
    Tensor X = randomTensor(rng, {2, 3, 4, 5}, -2.f, 2.f, {0.f}, 0.05f);
    Tensor slope = randomTensor(rng, {3, 1, 1}, 0.1f, 0.5f);
    auto k = build("PRelu", {}, {&X, &slope});
    QVERIFY(k);
    QVERIFY(gradCheck(*k, {X, slope}, {0, 1}, rng) < 1e-2);
    Tensor cond(DType::Bool, {3, 1}), A = randomTensor(rng, {2, 3, 4}), B = randomTensor(rng, {4});
    cond.data<uint8_t>()[1] = 1;
    auto w = build("Where", {}, {&cond, &A, &B});
    QVERIFY(w);
    QVERIFY(gradCheck(*w, {cond, A, B}, {1, 2}, rng) < 1e-2);
  }

  void softmaxGradientsOnInnerAxes() {
    std::mt19937 rng(29);
    for (const char* op : {"Softmax", "LogSoftmax"})
      for (int64_t axis : {0, 1, 2, 3}) {
        Tensor X = randomTensor(rng, {2, 3, 2, 3}, -3.f, 3.f);
        auto k = build(op, {{"axis", Attribute::ofInt(axis)}}, {&X}, 1, 13);
        QVERIFY(k);
        double worst = gradCheck(*k, {X}, {0}, rng);
        QVERIFY2(worst < 1e-2, (std::string(op) + " axis " + std::to_string(axis)).c_str());
      }
  }

  void reduceMeanGradients() {
    std::mt19937 rng(31);
    Tensor X = randomTensor(rng, {2, 3, 4, 5});
    for (const auto& [axes, keep] : std::vector<std::pair<std::vector<int64_t>, int>>{
             {{1}, 1}, {{0, 2}, 0}, {{-1}, 0}, {{}, 1}, {{0, 1, 2, 3}, 0}}) {
      Attrs attrs{{"keepdims", Attribute::ofInt(keep)}};
      if (!axes.empty()) attrs["axes"] = Attribute::ofInts(axes);
      auto k = build("ReduceMean", attrs, {&X}, 1, 13);
      QVERIFY(k);
      QVERIFY(gradCheck(*k, {X}, {0}, rng) < 1e-2);
    }
  }

  void dropoutInferenceGradientIsIdentity() {
    std::mt19937 rng(37);
    Tensor X = randomTensor(rng, {4, 5});
    auto k = build("Dropout", {{"ratio", Attribute::ofFloat(0.5f)}}, {&X}, 1, 11);
    QVERIFY(k);
    QVERIFY(gradCheck(*k, {X}, {0}, rng) < 1e-2);
  }
};

QTEST_APPLESS_MAIN(TestOpsElementwiseGrad)
#include "test_ops_elementwise_grad.moc"
