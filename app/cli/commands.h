// The command table of topiary-cli: one function per command, each in its
// own cmd_<name>.cpp.
#pragma once

#include "cli_common.h"

namespace cli {
int cmdInfo(const QStringList& args);
int cmdRun(const QStringList& args);
int cmdTrain(const QStringList& args);
int cmdEval(const QStringList& args);
int cmdBench(const QStringList& args);
int cmdPrune(const QStringList& args);
int cmdSensitivity(const QStringList& args);
int cmdReport(const QStringList& args);

const Command* commands(int& count);
}  // namespace cli
