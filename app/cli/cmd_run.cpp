// topiary-cli run MODEL --input NAME=FILE.pb [...] --output-dir DIR
#include <QDir>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "topiary/executor.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"

namespace cli {

int cmdRun(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("input", "Input as NAME=FILE.pb (a TensorProto); repeat per input. "
                                          "A bare FILE.pb feeds the model's only input.", "NAME=FILE"));
  p.addOption(QCommandLineOption("output-dir", "Folder for output_<i>.pb files.", "DIR"));
  p.addOption(QCommandLineOption("threads", "Threads (default: all cores).", "N", "0"));
  int code = 0;
  if (!parseArgs(p, args, "Run a model on TensorProto inputs and write its outputs as TensorProto files.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("run takes exactly one MODEL argument");
  if (!p.isSet("output-dir")) return failBadInput("run needs --output-dir DIR");
  bool threadsOk = false;
  const int threads = p.value("threads").toInt(&threadsOk);
  if (!threadsOk || threads < 0 || threads > 1024) return failBadInput("--threads must be a non-negative integer");
  std::string path = str(p.positionalArguments()[0]);
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  std::vector<topiary::NamedTensor> inputs;
  std::vector<std::string> inputFiles;
  for (const QString& spec : p.values("input")) {
    QString name, file = spec;
    int eq = spec.indexOf('=');
    if (eq > 0) {
      name = spec.left(eq);
      file = spec.mid(eq + 1);
    }
    auto t = topiary::loadTensorProto(str(file));
    if (!t) return fail(t.status());
    auto isInput = [&](const std::string& n) {
      for (const auto& in : g->inputs)
        if (in.name == n) return true;
      return false;
    };
    std::string inputNames;
    for (const auto& in : g->inputs) inputNames += (inputNames.empty() ? "" : ", ") + in.name;
    if (name.isEmpty()) {
      // The name inside the file when it is one of the model's inputs, else
      // the model's only input.
      if (!t->name.empty() && isInput(t->name))
        name = QString::fromStdString(t->name);
      else if (g->inputs.size() == 1) name = QString::fromStdString(g->inputs[0].name);
      else
        return failBadInput(
            "input file " + str(file) +
            (t->name.empty() ? " has no tensor name" : " names '" + t->name + "', no input of the model") +
            "; give it as NAME=FILE (inputs: " + inputNames + ")");
    }
    if (!isInput(str(name)))
      return failBadInput("--input " + str(spec) + ": the model has no input '" + str(name) +
                          "' (inputs: " + inputNames + ")");
    for (const auto& given : inputs)
      if (given.name == str(name)) return failBadInput("--input: '" + str(name) + "' is given twice");
    inputs.push_back({str(name), std::move(t->tensor)});
    inputFiles.push_back(str(file));
  }
  // output_<i>.pb must not land on the model or an input file (a chained
  // run reading DIR/output_0.pb and writing to DIR replaced its input).
  const std::string dir = str(p.value("output-dir"));
  auto outputFile = [&](size_t i) {
    return (std::filesystem::path(dir) / ("output_" + std::to_string(i) + ".pb")).string();
  };
  for (size_t i = 0; i < g->outputs.size(); ++i) {
    const std::string file = outputFile(i);
    if (topiary::sameFile(file, path))
      return failBadInput("--output-dir: " + file + " is the model; refusing to overwrite it");
    for (const auto& in : inputFiles)
      if (topiary::sameFile(file, in))
        return failBadInput("--output-dir: " + file + " is the input file " + in +
                            "; refusing to overwrite it (choose another folder)");
  }
  topiary::ExecutorOptions opts;
  opts.threads = threads;
  auto ex = topiary::Executor::create(g.value(), opts);
  if (!ex) return fail(ex.status());
  std::vector<std::pair<std::string, const topiary::Tensor*>> feed;
  for (const auto& nt : inputs) feed.emplace_back(nt.name, &nt.tensor);
  topiary::Status st = (*ex)->run(feed);
  if (!st) return fail(st);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return failBadInput("cannot create output folder " + dir + ": " + ec.message());
  nlohmann::json outs = nlohmann::json::array();
  for (size_t i = 0; i < (*ex)->outputCount(); ++i) {
    const auto& name = g->outputs[i].name;
    const std::string file = outputFile(i);
    st = topiary::saveTensorProto((*ex)->output(i), name, file);
    if (!st) return fail(st);
    outs.push_back({{"name", name}, {"file", file}, {"shape", topiary::shapeToString((*ex)->output(i).shape())},
                    {"type", topiary::dtypeName((*ex)->output(i).dtype())}});
    if (!p.isSet("json"))
      std::printf("%s %s -> %s\n", name.c_str(), topiary::shapeToString((*ex)->output(i).shape()).c_str(), file.c_str());
  }
  if (p.isSet("json")) printJson({{"outputs", outs}});
  return 0;
}

}  // namespace cli
