// topiary-cli train --arch ARCH --data SPEC --epochs N --out M.onnx: trains an
// architecture from scratch and writes the model atomically.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/train.h"

namespace cli {

namespace {

bool toInt(const QString& s, int64_t& v) {
  bool ok = false;
  v = s.toLongLong(&ok);
  return ok;
}
bool toFloat(const QString& s, float& v) {
  bool ok = false;
  v = s.toFloat(&ok);
  return ok;
}

}  // namespace

int cmdTrain(const QStringList& args) {
  using topiary::Status;
  QCommandLineParser p;
  QString archHelp = "Architecture:";
  for (const auto& n : topiary::architectureNames()) archHelp += " " + QString::fromStdString(n);
  p.addOption(QCommandLineOption("arch", archHelp, "ARCH"));
  p.addOption(QCommandLineOption("data", "Training data spec (default fashion-mnist:train).", "SPEC", "fashion-mnist:train"));
  p.addOption(QCommandLineOption("epochs", "Epochs (default 1).", "N", "1"));
  p.addOption(QCommandLineOption("out", "Output ONNX file.", "M.onnx"));
  p.addOption(QCommandLineOption("seed", "Seed for initialisation and shuffling (default 1).", "S", "1"));
  p.addOption(QCommandLineOption("lr", "Learning rate (default 0.01 for sgd, 0.001 for adam).", "LR"));
  p.addOption(QCommandLineOption("batch", "Batch size (default 64).", "B", "64"));
  p.addOption(QCommandLineOption("optimizer", "sgd or adam (default sgd).", "NAME", "sgd"));
  p.addOption(QCommandLineOption("momentum", "SGD momentum (default 0.9).", "M", "0.9"));
  p.addOption(QCommandLineOption("weight-decay", "L2 weight decay (default 0).", "WD", "0"));
  p.addOption(QCommandLineOption("schedule", "Learning-rate schedule: none, step, cosine (default none).", "KIND", "none"));
  p.addOption(QCommandLineOption("step-every", "Step schedule: epochs between decays (default 1).", "N", "1"));
  p.addOption(QCommandLineOption("step-gamma", "Step schedule: decay factor (default 0.1).", "G", "0.1"));
  p.addOption(QCommandLineOption("threads", "Threads (default: all cores).", "N", "0"));
  p.addOption(QCommandLineOption("limit", "Use only the first N training samples (default 0: all).", "N", "0"));
  p.addOption(QCommandLineOption("val-fraction", "Hold out this fraction for validation accuracy (default 0.05; 0: none).",
                                 "F", "0.05"));
  p.addOption(QCommandLineOption("augment-shift",
                                 "Augmentation: shift each training image by up to N pixels (default 0: off).", "N", "0"));
  p.addOption(QCommandLineOption("augment-flip", "Augmentation: mirror training images left-right at random."));
  p.addOption(QCommandLineOption("save-every-epoch", "Also write --out after every epoch (a checkpoint for long runs)."));
  int code = 0;
  if (!parseArgs(p, args, "Train an architecture from scratch and save it as ONNX.", code)) return code;
  if (!p.positionalArguments().isEmpty()) return failBadInput("train takes no positional arguments");
  if (!p.isSet("arch")) return failBadInput("train needs --arch ARCH");
  if (!p.isSet("out")) return failBadInput("train needs --out M.onnx");
  topiary::TrainOptions o;
  int64_t epochs = 0, seed = 0, batch = 0, threads = 0, limit = 0, stepEvery = 0;
  float valFraction = 0;
  if (!toInt(p.value("epochs"), epochs) || epochs < 1 || epochs > 100000)
    return failBadInput("--epochs must be a positive integer, got '" + str(p.value("epochs")) + "'");
  if (!toInt(p.value("seed"), seed) || seed < 0) return failBadInput("--seed must be a non-negative integer");
  if (!toInt(p.value("batch"), batch) || batch < 1 || batch > 65536)
    return failBadInput("--batch must be a positive integer, got '" + str(p.value("batch")) + "'");
  if (!toInt(p.value("threads"), threads) || threads < 0 || threads > 1024)
    return failBadInput("--threads must be a non-negative integer");
  if (!toInt(p.value("limit"), limit) || limit < 0) return failBadInput("--limit must be a non-negative integer");
  if (!toInt(p.value("step-every"), stepEvery) || stepEvery < 1) return failBadInput("--step-every must be >= 1");
  if (!toFloat(p.value("val-fraction"), valFraction) || valFraction < 0 || valFraction >= 1)
    return failBadInput("--val-fraction must be in [0, 1)");
  o.optimizer = str(p.value("optimizer"));
  if (o.optimizer != "sgd" && o.optimizer != "adam")
    return failBadInput("unknown optimizer '" + o.optimizer + "'; use sgd or adam");
  o.lr = o.optimizer == "adam" ? 0.001f : 0.01f;
  if (p.isSet("lr") && (!toFloat(p.value("lr"), o.lr) || !(o.lr > 0) || !std::isfinite(o.lr)))
    return failBadInput("--lr must be a finite positive number, got '" + str(p.value("lr")) + "'");
  // Written so that nan fails: it passed `< 0` and training then reported a
  // divergence, blaming the learning rate.
  if (!toFloat(p.value("momentum"), o.momentum) || !(o.momentum >= 0 && o.momentum < 1))
    return failBadInput("--momentum must be a number in [0, 1), got '" + str(p.value("momentum")) + "'");
  if (!toFloat(p.value("weight-decay"), o.weightDecay) || !(o.weightDecay >= 0) || !std::isfinite(o.weightDecay))
    return failBadInput("--weight-decay must be a finite number >= 0, got '" + str(p.value("weight-decay")) + "'");
  if (!toFloat(p.value("step-gamma"), o.stepGamma) || !(o.stepGamma > 0) || !std::isfinite(o.stepGamma))
    return failBadInput("--step-gamma must be a finite number above 0, got '" + str(p.value("step-gamma")) + "'");
  o.epochs = static_cast<int>(epochs);
  o.seed = static_cast<uint64_t>(seed);
  o.batchSize = static_cast<int>(batch);
  o.threads = static_cast<int>(threads);
  o.schedule = str(p.value("schedule"));
  if (o.schedule != "none" && o.schedule != "step" && o.schedule != "cosine")
    return failBadInput("unknown schedule '" + o.schedule + "'; use none, step or cosine");
  o.stepEvery = static_cast<int>(stepEvery);
  int64_t shift = 0;
  if (!toInt(p.value("augment-shift"), shift) || shift < 0 || shift > 8)
    return failBadInput("--augment-shift must be 0..8 pixels, got '" + str(p.value("augment-shift")) + "'");
  o.augmentShift = static_cast<int>(shift);
  o.augmentFlip = p.isSet("augment-flip");
  const std::string arch = str(p.value("arch")), spec = str(p.value("data")), out = str(p.value("out"));
  if (topiary::Status st = topiary::checkOutputPath(out); !st) return fail(st.withContext("--out"));
  if (topiary::Status st = checkNotDataFile(out, spec, "--data"); !st) return fail(st.withContext("--out"));
  const bool json = p.isSet("json");

  topiary::ArchOptions ao;
  ao.seed = o.seed;
  auto probe = topiary::buildArchitecture(arch, ao);  // unknown names fail before loading data
  if (!probe) return fail(probe.status());
  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  auto data = topiary::loadDataset(spec, dopt);
  if (!data) return fail(data.status());
  if (data->images.rank() != 4) return failBadInput("data '" + spec + "' does not hold NCHW images");
  ao.inChannels = static_cast<int>(data->images.dim(1));
  ao.imageSize = static_cast<int>(data->images.dim(2));
  ao.classes = data->numClasses;
  auto g = topiary::buildArchitecture(arch, ao);
  if (!g) return fail(g.status());
  topiary::Dataset trainSet, valSet;
  if (valFraction > 0) topiary::splitDataset(data.value(), valFraction, o.seed, trainSet, valSet);
  const topiary::Dataset& trainData = valFraction > 0 ? trainSet : data.value();

  if (!json)
    std::printf("training %s (%lld params) on %s: %lld samples (%lld for validation), %d epochs, %s lr %g, batch %d\n",
                arch.c_str(), static_cast<long long>(g->paramCount()), spec.c_str(),
                static_cast<long long>(trainData.size()), static_cast<long long>(valSet.size()), o.epochs,
                o.optimizer.c_str(), static_cast<double>(o.lr), o.batchSize);
  std::fflush(stdout);
  nlohmann::json epochsJson = nlohmann::json::array();
  auto start = std::chrono::steady_clock::now();
  auto epochStart = start;
  const bool tty = ::isatty(2) != 0;
  auto progress = [&](const topiary::TrainProgress& pr) {
    if (!pr.epochDone) {
      if (tty && !json && pr.batch % 20 == 0)
        std::fprintf(stderr, "\r  epoch %d/%d  batch %lld/%lld  loss %.4f  acc %.4f  %.0f img/s   ", pr.epoch, pr.epochs,
                     static_cast<long long>(pr.batch), static_cast<long long>(pr.batches), pr.loss, pr.accuracy,
                     pr.imagesPerSecond);
      return true;
    }
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - epochStart).count();
    epochStart = now;
    nlohmann::json e = {{"epoch", pr.epoch},       {"loss", pr.loss},       {"accuracy", pr.accuracy},
                        {"images_per_second", pr.imagesPerSecond}, {"seconds", secs}};
    if (pr.validationAccuracy >= 0) e["validation_accuracy"] = pr.validationAccuracy;
    epochsJson.push_back(e);
    if (p.isSet("save-every-epoch") && pr.epoch < pr.epochs) {
      Status saved = topiary::saveModel(g.value(), out);
      if (!saved.isOk()) {
        std::cerr << "error: " << saved.message() << "\n";
        return false;  // cancels training; the error is reported below
      }
    }
    if (!json) {
      if (tty) std::fprintf(stderr, "\r%80s\r", "");
      std::printf("epoch %3d/%d  loss %.4f  acc %.4f  %7.0f img/s  %6.1f s", pr.epoch, pr.epochs, pr.loss, pr.accuracy,
                  pr.imagesPerSecond, secs);
      if (pr.validationAccuracy >= 0) std::printf("  val acc %.4f", pr.validationAccuracy);
      std::printf("\n");
      std::fflush(stdout);
    }
    return true;
  };
  Status st = topiary::train(g.value(), trainData, o, nullptr, {}, progress, nullptr, valFraction > 0 ? &valSet : nullptr);
  if (!st.isOk()) return fail(st);
  g->metadata.push_back({"topiary.training", "arch=" + arch + " data=" + spec + " epochs=" + std::to_string(o.epochs) +
                                                 " optimizer=" + o.optimizer + " seed=" + std::to_string(o.seed)});
  st = topiary::checkModel(g.value());
  if (!st.isOk()) return fail(Status::internal("the trained model fails the ONNX checker: " + st.message()));
  st = topiary::saveModel(g.value(), out);
  if (!st.isOk()) return fail(st);
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    printJson({{"arch", arch}, {"data", spec}, {"out", out}, {"params", g->paramCount()},
               {"samples", trainData.size()}, {"epochs", epochsJson}, {"seconds", total}});
  } else {
    std::printf("saved %s (%.1f s)\n", out.c_str(), total);
  }
  return 0;
}

}  // namespace cli
