// topiary [MODEL]: the pruning workbench.
#include <QApplication>
#include <QCommandLineParser>
#include <QImage>

#include "MainWindow.h"
#include "topiary/dataset.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("Topiary");
  QApplication::setApplicationName("topiary");
  QApplication::setApplicationVersion("0.1.0");
  QCommandLineParser parser;
  parser.setApplicationDescription("Topiary: a workbench for pruning neural networks");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("model", "ONNX model to open (default: the last one, or the bundled demo)", "[MODEL]");
  parser.process(app);

  MainWindow w;
  w.show();
  QString model = parser.positionalArguments().value(0);
  if (model.endsWith(".topiary")) {
    QString err;
    if (!w.openSession(model, &err)) qWarning("%s", qPrintable(err));
  } else if (!model.isEmpty()) {
    w.openModel(model);
  } else if (!w.recoverIfCrashed(true)) {
    model = w.defaultModel();
    if (!model.isEmpty()) w.openModel(model);
  }
  return app.exec();
}
