#include "cli_common.h"

#include <QCoreApplication>

#include <cstdio>
#include <iostream>

#include "topiary/file_util.h"

namespace cli {

bool parseArgs(QCommandLineParser& parser, const QStringList& args, const QString& usage, int& exitCode) {
  parser.setApplicationDescription(usage);
  parser.addHelpOption();
  parser.addOption(QCommandLineOption("json", "Print one JSON object on stdout."));
  if (!parser.parse(args)) {
    std::cerr << "error: " << parser.errorText().toStdString() << "\n";
    exitCode = 2;
    return false;
  }
  if (parser.isSet("help")) {
    // Qt starts the usage line with the program as it was started (often a
    // full build path) and knows nothing of the command; say what to type.
    QString help = parser.helpText();
    const QStringList appArgs = QCoreApplication::arguments();
    const QString program = appArgs.isEmpty() ? QCoreApplication::applicationFilePath() : appArgs.constFirst();
    const QString started = QStringLiteral("Usage: ") + program;
    if (help.startsWith(started) && !args.isEmpty())
      help.replace(0, started.size(), QStringLiteral("Usage: topiary-cli ") + args.constFirst());
    std::cout << help.toStdString();
    exitCode = 0;
    return false;
  }
  return true;
}

int fail(const topiary::Status& st) {
  std::cerr << "error: " << st.message() << "\n";
  return st.exitCode() == 0 ? 1 : st.exitCode();
}

int failBadInput(const std::string& message) { return fail(topiary::Status::badInput(message)); }

topiary::Status checkNotDataFile(const std::string& out, const std::string& spec, const std::string& option) {
  if (spec.rfind("idx:", 0) != 0) return topiary::Status::ok();
  const std::string files = spec.substr(4);
  const size_t comma = files.find(',');
  for (const std::string& f : {files.substr(0, comma), comma == std::string::npos ? "" : files.substr(comma + 1)})
    if (!f.empty() && topiary::sameFile(out, f))
      return topiary::Status::badInput("'" + out + "' is the data file " + f + " of " + option +
                                       "; refusing to overwrite it");
  return topiary::Status::ok();
}

void printJson(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

std::string str(const QString& s) { return s.toStdString(); }

std::string humanCount(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string humanBytes(double v) {
  char buf[32];
  if (v >= 1 << 20) std::snprintf(buf, sizeof buf, "%.2f MB", v / (1 << 20));
  else if (v >= 1 << 10) std::snprintf(buf, sizeof buf, "%.1f KB", v / (1 << 10));
  else std::snprintf(buf, sizeof buf, "%.0f B", v);
  return buf;
}

}  // namespace cli
