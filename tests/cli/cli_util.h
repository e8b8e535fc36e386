// Runs topiary-cli as a child process for the CLI tests.
#pragma once
#include <QStringList>
#include <string>

namespace clitest {

struct CliResult {
  bool finished = false;  // exited before the timeout
  bool crashed = false;   // killed by a signal (or by the timeout)
  int exitCode = -1;      // -1 when it crashed or never started
  std::string out, err;
};

// Starts TOPIARY_CLI with `args` and waits up to `timeoutMs`; a process still
// running then is killed and reported as not finished.
CliResult runCli(const QStringList& args, int timeoutMs = 120000);

}  // namespace clitest
