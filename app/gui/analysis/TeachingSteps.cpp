#include "TeachingSteps.h"

#include <QObject>

namespace {

PrunePlan plan(const QString& granularity, double sparsity, const QString& storage, int bits = 0) {
  PrunePlan p;
  GlobalPlan g;
  g.granularity = granularity;
  g.sparsity = sparsity;
  g.storage = storage;
  g.quantBits = bits;
  p.setGlobal(g);
  return p;
}

}  // namespace

QVector<TeachingStep> teachingSteps() {
  using E = TeachingStep::Extra;
  QVector<TeachingStep> s;
  s.push_back(
      {QObject::tr("1. The neuron"),
       QObject::tr(
           "<p>Every unit of a network computes <b>u = &Sigma; w<sub>i</sub> x<sub>i</sub> + b</b> and "
           "passes u through an activation (here ReLU: max(0, u)). Below is a real neuron of a fully "
           "connected layer of this model, on a real test image: its largest terms w&middot;x, the bias and the "
           "result. Each w is a <i>connection</i>; the whole row of w is the <i>neuron</i>.</p>"
           "<p>The model is dense: nothing is pruned yet. Note its accuracy, size and latency.</p>"),
       plan("element", 0.0, "dense"), E::Neuron});
  s.push_back(
      {QObject::tr("2. Connection pruning"),
       QObject::tr("<p>Connection (unstructured) pruning removes single weights: here the 50% with the smallest "
                   "magnitude in every layer. The shapes stay the same; the zeros must be stored with their "
                   "positions (CSR here), and a dense kernel still multiplies by them.</p>"),
       plan("element", 0.5, "csr"), E::None});
  s.push_back(
      {QObject::tr("3. Neuron pruning"),
       QObject::tr("<p>Neuron (structured) pruning removes whole units: 50% of the filters of each convolution "
                   "and of the neurons of each fully connected layer (the output layer stays whole). Removing a "
                   "filter also removes the input channel of the next layer that read it, so the model becomes "
                   "physically smaller: size is now counted as the pruned shapes, with no index at all.</p>"),
       plan("filter", 0.5, "structured"), E::None});
  s.push_back(
      {QObject::tr("4. Structured vs unstructured"),
       QObject::tr(
           "<p>Now 90% of the connections, unstructured. Compare with step 3 in the table: how many "
           "weights are gone, what happened to accuracy, and the latency. A dense kernel still does "
           "every multiply, zeros included, so unstructured sparsity can only pay off in speed with "
           "sparse kernels or hardware that skips zeros; the physically smaller model of step 3 "
           "does fewer multiplies on any CPU (its latency is measured above; on a model this small "
           "timer noise can hide the gain). Without fine-tuning both lose accuracy; Jobs &gt; Fine-tune shows how "
           "much comes back.</p>"),
       plan("element", 0.9, "csr"), E::None});
  s.push_back({QObject::tr("5. Static vs dynamic"),
               QObject::tr("<p>Everything so far is <i>static</i>: the same weights are removed for every input. "
                           "<i>Dynamic</i> pruning decides per input: when a channel is (nearly) zero after ReLU for a "
                           "given image, the next convolution can skip it for that image. The model is back at step "
                           "3's static plan; below is what run-time skipping measures on the dense model over 16 test "
                           "images, for exactly silent channels and for nearly silent ones. A small dense network "
                           "rarely switches a whole channel off; networks meant for dynamic pruning are trained "
                           "with gates that do. (Analysis &gt; Dynamic Pruning shows it per layer and per "
                           "image.)</p>"),
               plan("filter", 0.5, "structured"), E::Dynamic});
  s.push_back({QObject::tr("6. N:M sparsity"),
               QObject::tr("<p>N:M pruning keeps N weights of every M consecutive ones (2:4 here: exactly 50%). The "
                           "pattern is regular enough for hardware (sparse tensor cores) to skip the zeros, and the "
                           "index is tiny: 2 bits per kept value.</p>"),
               plan("nm", 0.5, "nm"), E::None});
  s.push_back(
      {QObject::tr("7. Quantization on top"),
       QObject::tr("<p>Back to 90% unstructured, now with 4-bit weights. The values shrink 8x, but the "
                   "positions do not: CSR's column indices still take several bits each, so the index becomes "
                   "the larger part of the storage. Below: values and index at 32 and at 4 bits. This is why "
                   "unstructured pruning and aggressive quantization do not simply multiply their savings.</p>"),
       plan("element", 0.9, "csr", 4), E::IndexOverhead});
  return s;
}
