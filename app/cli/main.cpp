// topiary-cli: the Topiary engine for scripts and batch work.
#include <QCoreApplication>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "image_decoder.h"

namespace cli {
const Command* commands(int& count) {
  static const Command table[] = {
      {"info", "layers, params, nonzero params, FLOPs, per layer", cmdInfo},
      {"run", "run a model on TensorProto inputs, write outputs as TensorProto files", cmdRun},
      {"train", "train an architecture from scratch on a data set, save ONNX", cmdTrain},
      {"eval", "accuracy, samples and latency of a classifier on a data set", cmdEval},
      {"prune", "run a pruning recipe, write the pruned model, report before/after", cmdPrune},
      {"sensitivity", "per-layer accuracy vs sparsity", cmdSensitivity},
      {"report", "run a recipe and write a report folder: PNG charts + HTML summary", cmdReport},
      {"bench", "latency on random inputs: median, min, max (--compare-ort: vs ONNX Runtime)", cmdBench},
  };
  count = static_cast<int>(sizeof(table) / sizeof(table[0]));
  return table;
}
}  // namespace cli

static void usage() {
  std::cout << "usage: topiary-cli COMMAND [options]   (topiary-cli COMMAND --help for details)\n\ncommands:\n";
  int n = 0;
  const cli::Command* cmds = cli::commands(n);
  for (int i = 0; i < n; ++i) std::printf("  %-12s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  cli::installImageDecoder();
  QCoreApplication::setApplicationName("topiary-cli");
  QCoreApplication::setApplicationVersion("0.1.0");
  QStringList args = app.arguments();
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    usage();
    return args.size() < 2 ? 2 : 0;
  }
  int n = 0;
  const cli::Command* cmds = cli::commands(n);
  for (int i = 0; i < n; ++i)
    if (args[1] == cmds[i].name) {
      try {
        return cmds[i].run(args.mid(1));
      } catch (const std::exception& e) {
        std::cerr << "error: internal failure: " << e.what() << "\n";
        return 1;
      }
    }
  std::cerr << "error: unknown command '" << args[1].toStdString() << "' (topiary-cli --help lists them)\n";
  return 2;
}
