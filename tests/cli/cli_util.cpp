#include "cli_util.h"

#include <QProcess>

namespace clitest {

CliResult runCli(const QStringList& args, int timeoutMs) {
  QProcess p;
  p.start(TOPIARY_CLI, args);
  CliResult r;
  if (!p.waitForStarted(10000)) return r;
  r.finished = p.waitForFinished(timeoutMs);
  if (!r.finished) {
    p.kill();
    p.waitForFinished(5000);
  }
  r.crashed = p.exitStatus() != QProcess::NormalExit;
  r.exitCode = r.crashed ? -1 : p.exitCode();
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

}  // namespace clitest
