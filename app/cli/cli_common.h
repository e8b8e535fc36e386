// Shared plumbing of topiary-cli commands: option parsing, output, errors.
#pragma once

#include <QCommandLineParser>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <string>

#include "topiary/status.h"

namespace cli {

// A command's entry point: args[0] is the command name.
using CommandFn = int (*)(const QStringList& args);

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

// Sets up a parser with --help and --json, parses args; on failure prints the
// error to stderr and returns false with exitCode set.
bool parseArgs(QCommandLineParser& parser, const QStringList& args, const QString& usage, int& exitCode);

// Prints "error: <message>" on stderr and returns the status's exit code.
int fail(const topiary::Status& st);
int failBadInput(const std::string& message);

// BadInput when `out` is one of the files a data spec reads (idx:IMAGES,LABELS),
// `option` naming the spec's option; ok otherwise.
topiary::Status checkNotDataFile(const std::string& out, const std::string& spec, const std::string& option);

void printJson(const nlohmann::json& j);
std::string str(const QString& s);

// Formats 1234567 as "1.23M" and bytes as "12.3 KB".
std::string humanCount(double v);
std::string humanBytes(double v);

}  // namespace cli
