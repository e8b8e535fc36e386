#include "gui_util.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <algorithm>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <random>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/onnx_io.h"

namespace guitest {

QString demoModelPath() {
  QString bundled = QString::fromStdString(testutil::sourcePath("resources/models/lenet5.onnx"));
  if (QFileInfo::exists(bundled)) return bundled;
  static QString generated;
  if (!generated.isEmpty()) return generated;
  auto g = topiary::buildArchitecture("lenet5");
  if (!g) return {};
  QString path = QString::fromStdString(testutil::tempDir()) + "/lenet5-untrained.onnx";
  if (!topiary::saveModel(g.value(), path.toStdString())) return {};
  generated = path;
  return generated;
}

topiary::Graph syntheticGraph(int nodes, unsigned seed) {
  std::mt19937 rng(seed);
  topiary::Graph g;
  topiary::ValueInfo in;
  in.name = "input";
  in.hasShape = true;
  in.dims = {{1, ""}, {8, ""}, {16, ""}, {16, ""}};
  g.inputs.push_back(in);
  std::vector<std::string> tensors{"input"};
  const char* ops[] = {"Conv", "Relu", "Add", "BatchNormalization", "MaxPool", "Concat", "Gemm"};
  for (int i = 0; i < nodes; ++i) {
    topiary::Node n;
    n.name = "n" + std::to_string(i);
    n.opType = ops[rng() % 7];
    // Mostly read a recent tensor (a deep net), sometimes a far one (skips).
    size_t k = tensors.size();
    auto pick = [&] {
      size_t back = (rng() % 4 == 0) ? rng() % std::min<size_t>(k, 40) : rng() % std::min<size_t>(k, 3);
      return tensors[k - 1 - back];
    };
    n.inputs.push_back(pick());
    if (n.opType == "Add" || n.opType == "Concat") n.inputs.push_back(pick());
    n.outputs.push_back("t" + std::to_string(i));
    tensors.push_back(n.outputs[0]);
    g.nodes.push_back(n);
  }
  topiary::ValueInfo out;
  out.name = tensors.back();
  g.outputs.push_back(out);
  return g;
}

double maxEventLoopGapMs(int durationMs) {
  QElapsedTimer total, since;
  total.start();
  since.start();
  double worst = 0;
  QEventLoop loop;
  QTimer tick;
  tick.setInterval(5);
  QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
    worst = std::max(worst, since.nsecsElapsed() / 1e6);
    since.restart();
    if (total.elapsed() >= durationMs) loop.quit();
  });
  tick.start();
  loop.exec();
  return worst;
}

void isolateSettings() {
  // ctest runs the GUI test executables in parallel: each gets settings (recent
  // files, window state) and app data (autosaves) of its own, named after the
  // executable, so one test's opens never show up in another's recent list.
  const QString exe = QFileInfo(QCoreApplication::applicationFilePath()).completeBaseName();
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName("TopiaryTest");
  QCoreApplication::setApplicationName("topiary-test-" + exe);
  QSettings().clear();
}

QString screenshotDir() {
  QString dir = qEnvironmentVariable("TOPIARY_SCREENSHOT_DIR");
  if (dir.isEmpty()) dir = QStringLiteral(TOPIARY_BINARY_DIR) + "/screenshots";
  QDir().mkpath(dir);
  return dir;
}

}  // namespace guitest
