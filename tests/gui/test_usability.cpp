// The workbench as a keyboard and mouse user meets it (offscreen): recent
// files in most-recent order (folders shown when names collide, missing files
// left out, an entry opens its model), no two actions on one shortcut and the
// common actions all have one, Esc reaches a table editor while no job runs,
// dropping a session opens it and dropping anything else is refused, and a
// second open while a model loads wins (queued: the GUI thread never waits on a load),
// and the window shrinks to fit a 1366x768 laptop screen (and 1280x680) with
// every control of the graph's toolbar on it, none behind its overflow arrow,
// every column of the layer table in view without a horizontal scrollbar (the
// sparsity editor opening at its full width) and a heatmap at least 140 px tall.
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QPointer>
#include <QScrollBar>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QValueAxis>
#include <QtTest>

#include "HeatmapPanel.h"
#include "HeatmapView.h"
#include "LayerTableModel.h"
#include "LayerTableView.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "ParetoChart.h"
#include "PreviewPanel.h"
#include "SessionStore.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/file_util.h"

class TestUsability : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void recentFiles();
  void recentFileLabelsReadAsTheFiles();
  void shortcutsUniqueAndPresent();
  void escapeReachesEditorWithoutJob();
  void dropSessionAndRefuseOthers();
  void secondOpenWins();
  void fitsSmallScreen_data();
  void fitsSmallScreen();
  void narrowTableKeepsNames();

 private:
  // Copies the demo model to `dir`/`name` (two folders, one file name).
  QString copyDemo(const QString& dir, const QString& name);
  static QMenu* menuTitled(QWidget* w, const QString& title);
  QString demo_;
  // Shows the window and opens the demo model in it; false when either fails.
  bool showWithDemo(MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return false;
    QSignalSpy opened(&w, &MainWindow::modelOpened);
    w.openModel(demo_);
    return QTest::qWaitFor([&] { return opened.count() == 1; }, 30000);
  }
};

void TestUsability::initTestCase() {
  guitest::isolateSettings();
  demo_ = guitest::demoModelPath();
  QVERIFY(!demo_.isEmpty());
}

QString TestUsability::copyDemo(const QString& dir, const QString& name) {
  const QString folder = QString::fromStdString(testutil::tempDir()) + "/" + dir;
  QDir().mkpath(folder);
  const QString path = folder + "/" + name;
  QFile::remove(path);
  return QFile::copy(demo_, path) ? path : QString();
}

QMenu* TestUsability::menuTitled(QWidget* w, const QString& title) {
  for (QMenu* m : w->findChildren<QMenu*>())
    if (m->title() == title) return m;
  return nullptr;
}

void TestUsability::recentFiles() {
  const QString a = copyDemo("exp-a", "model.onnx");
  const QString b = copyDemo("exp-b", "model.onnx");
  const QString gone = copyDemo("exp-c", "old.onnx");
  QVERIFY(!a.isEmpty() && !b.isEmpty() && !gone.isEmpty());
  MainWindow w;
  w.show();
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  for (const QString& p : {gone, a, b}) {
    w.openModel(p);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
    opened.clear();
  }
  QVERIFY(QFile::remove(gone));
  QMenu* recent = menuTitled(&w, "Open &Recent");
  QVERIFY(recent);
  emit recent->aboutToShow();
  QStringList labels;
  QList<QAction*> entries;
  for (QAction* act : recent->actions())
    if (!act->isSeparator() && act->text() != "Clear list") {
      labels << act->text();
      entries << act;
    }
  // Newest first; the deleted file is not offered; equal names show their folders.
  QCOMPARE(labels, QStringList({"&1 model.onnx  (exp-b)", "&2 model.onnx  (exp-a)"}));
  // Re-opening moves a file to the top; an entry opens its file.
  entries[1]->trigger();
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QCOMPARE(QFileInfo(opened.first().at(0).toString()).absoluteFilePath(), QFileInfo(a).absoluteFilePath());
  emit recent->aboutToShow();
  QVERIFY(recent->actions().first()->text().endsWith("(exp-a)"));
  // Clear list empties it.
  for (QAction* act : recent->actions())
    if (act->text() == "Clear list") act->trigger();
  emit recent->aboutToShow();
  QCOMPARE(recent->actions().first()->text(), QString("(none)"));
  QVERIFY(!recent->actions().first()->isEnabled());
}

namespace {

// What a menu shows for an action's text: "&&" is a literal '&', a lone '&'
// marks the next letter as the shortcut and is not shown.
QString shownText(const QString& text) {
  QString out;
  for (int i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '&') {
      out += '&';
      ++i;
    }
  }
  return out;
}

}  // namespace

void TestUsability::recentFileLabelsReadAsTheFiles() {
  // Two experiments whose folders share a name, and a name with an '&'.
  const QString x = copyDemo("x/exp", "model.onnx");
  const QString y = copyDemo("y/exp", "model.onnx");
  const QString rd = copyDemo("r-and-d", "R&D.onnx");
  QVERIFY(!x.isEmpty() && !y.isEmpty() && !rd.isEmpty());
  MainWindow w;
  w.show();
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  for (const QString& p : {x, y, rd}) {
    w.openModel(p);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
    opened.clear();
  }
  QMenu* recent = menuTitled(&w, "Open &Recent");
  QVERIFY(recent);
  emit recent->aboutToShow();
  QStringList shown;
  for (QAction* act : recent->actions())
    if (!act->isSeparator() && shown.size() < 3) shown << shownText(act->text());
  QCOMPARE(shown, QStringList({"1 R&D.onnx", "2 model.onnx  (y/exp)", "3 model.onnx  (x/exp)"}));
}

void TestUsability::shortcutsUniqueAndPresent() {
  MainWindow w;
  w.show();
  QHash<QString, QStringList> byKey;
  QHash<QString, QString> keyOf;  // action text without '&' -> shortcut
  for (QAction* a : w.findChildren<QAction*>()) {
    for (const QKeySequence& k : a->shortcuts()) {
      if (k.isEmpty()) continue;
      byKey[k.toString()] << a->text();
    }
    if (!a->shortcut().isEmpty()) keyOf[a->text().remove('&')] = a->shortcut().toString();
  }
  for (auto it = byKey.begin(); it != byKey.end(); ++it)
    QVERIFY2(it.value().size() == 1, qPrintable(it.key() + " is bound to " + it.value().join(", ")));
  const QStringList common = {"Open Model...", "Save Session As...", "Export Pruned Model...", "Find Layer",
                              "Fit Graph", "Benchmark Latency", "Cancel Job", "Fine-tune 1 Epoch"};
  for (const QString& name : common) QVERIFY2(keyOf.contains(name), qPrintable(name + " has no shortcut"));
  QCOMPARE(keyOf.value("Fit Graph"), QKeySequence(Qt::CTRL | Qt::Key_0).toString());
  bool undo = false, redo = false;
  for (QAction* a : w.findChildren<QAction*>()) {
    undo |= a->shortcut() == QKeySequence(QKeySequence::Undo);
    redo |= a->shortcut() == QKeySequence(QKeySequence::Redo);
  }
  QVERIFY(undo && redo);
}

void TestUsability::escapeReachesEditorWithoutJob() {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  w.openModel(demo_);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QTableView* table = nullptr;
  for (QTableView* t : w.findChildren<QTableView*>())
    if (t->model() == w.layerModel()) table = t;
  QVERIFY(table);
  w.activateWindow();
  const QModelIndex cell = w.layerModel()->index(0, LayerTableModel::Criterion);
  table->setCurrentIndex(cell);
  table->edit(cell);
  QPointer<QComboBox> editor;
  QTRY_VERIFY((editor = table->viewport()->findChild<QComboBox*>()) != nullptr && editor->isVisible());
  editor->setFocus();
  QTest::keyClick(editor, Qt::Key_Escape);
  QTRY_VERIFY(editor.isNull() || !editor->isVisible());
  // The plan is untouched: Esc cancelled the edit, nothing else.
  QVERIFY(w.document()->undoStack()->count() == 0);
  // Esc on the table with no job running triggers nothing (the action is
  // disabled); while a job runs it cancels the job, yet an open editor still
  // takes its own Esc.
  QAction* cancel = nullptr;
  for (QAction* a : w.findChildren<QAction*>())
    if (a->text() == "&Cancel Job") cancel = a;
  QVERIFY(cancel && !cancel->isEnabled());
  QSignalSpy triggered(cancel, &QAction::triggered);
  table->setFocus();
  QTest::keyClick(table, Qt::Key_Escape);
  QCOMPARE(triggered.count(), 0);
  cancel->setEnabled(true);  // as jobStarted does
  QTest::keyClick(table, Qt::Key_Escape);
  QCOMPARE(triggered.count(), 1);
  table->edit(cell);
  QTRY_VERIFY((editor = table->viewport()->findChild<QComboBox*>()) != nullptr && editor->isVisible());
  editor->setFocus();
  QTest::keyClick(editor, Qt::Key_Escape);
  QCOMPARE(triggered.count(), 1);
  QTRY_VERIFY(editor.isNull() || !editor->isVisible());
}

void TestUsability::dropSessionAndRefuseOthers() {
  MainWindow w;
  w.show();
  // A text file is refused at drag-enter: the cursor says no.
  const QString txt = QString::fromStdString(testutil::tempDir()) + "/notes.txt";
  QVERIFY(topiary::writeFileAtomic(txt.toStdString(), "hello"));
  QMimeData bad;
  bad.setUrls({QUrl::fromLocalFile(txt)});
  QDragEnterEvent refuse(QPoint(10, 10), Qt::CopyAction, &bad, Qt::LeftButton, Qt::NoModifier);
  refuse.setAccepted(false);
  QApplication::sendEvent(&w, &refuse);
  QVERIFY(!refuse.isAccepted());

  // A session: its model opens with its plan applied.
  PrunePlan plan;
  plan.setAllSparsity(0.35);
  QJsonObject session{{"format", "topiary-session"}, {"version", 1}, {"model", demo_}, {"recipe", plan.toRecipe()}};
  const QString path = QString::fromStdString(testutil::tempDir()) + "/dropped.topiary";
  QVERIFY(topiary::writeFileAtomic(path.toStdString(), QJsonDocument(session).toJson().toStdString()));
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path)});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QCOMPARE(opened.first().at(0).toString(), demo_);
  QCOMPARE(w.document()->plan().global().sparsity, 0.35);
}

void TestUsability::secondOpenWins() {
  const QString first = copyDemo("first", "first.onnx");
  const QString second = copyDemo("second", "second.onnx");
  MainWindow w;
  w.show();
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  QSignalSpy changed(w.document(), &ModelDocument::modelChanged);
  w.openModel(first);
  w.openModel(second);  // while the first still loads: queued, the GUI thread does not wait
  QTRY_VERIFY_WITH_TIMEOUT(w.document()->hasModel() && w.document()->model()->path == second, 30000);
  QVERIFY(!opened.isEmpty());
  QCOMPARE(opened.last().at(0).toString(), second);
  QVERIFY(w.windowTitle().contains("second.onnx"));
  // The superseded load never became the document's model.
  QCOMPARE(changed.count(), 1);
}

void TestUsability::fitsSmallScreen_data() {
  QTest::addColumn<QSize>("size");
  QTest::newRow("1280x680") << QSize(1280, 680);
  QTest::newRow("1366x768") << QSize(1366, 768);
}

void TestUsability::fitsSmallScreen() {
  // A 1366x768 screen leaves about 700 px of height for a window (panel and
  // title bar): the docks' minimum sizes must not hold it taller, or the
  // status bar and the bottom of every dock end up off screen.
  QFETCH(QSize, size);
  MainWindow w;
  QVERIFY(showWithDemo(w));
  w.applyDefaultLayout(size);  // what a first start on that screen does
  QTRY_VERIFY_WITH_TIMEOUT(w.document()->hasPreview() && !w.document()->preview().estimate, 30000);
  w.selectLayer("conv2");  // so the weights dock shows a heatmap
  QTest::qWait(100);
  QVERIFY2(w.height() <= size.height() && w.width() <= size.width(),
           qPrintable(QString("window %1x%2, minimum %3x%4")
                          .arg(w.width())
                          .arg(w.height())
                          .arg(w.minimumSizeHint().width())
                          .arg(w.minimumSizeHint().height())));
  // Saved before the checks below, so that a failure can be looked at.
  w.grab().save(guitest::screenshotDir() + QString("/main-window-%1x%2.png").arg(size.width()).arg(size.height()));
  // The graph's toolbar shows its find field (Ctrl+F focuses it), not only
  // an overflow arrow.
  QVERIFY(w.findField()->isVisible());
  // Every control of that toolbar, the Group box included, lies on it: none
  // is hidden behind the overflow arrow, and the arrow itself is not shown.
  auto* bar = qobject_cast<QToolBar*>(w.findField()->parentWidget());
  QVERIFY(bar);
  QVERIFY(w.groupBox()->isVisible());
  QVERIFY(bar->rect().contains(w.groupBox()->geometry()));
  for (QAction* a : bar->actions()) {
    QWidget* item = bar->widgetForAction(a);
    QVERIFY(item);
    QVERIFY2(item->isVisible() && bar->rect().contains(item->geometry()),
             qPrintable(QString("'%1' at x %2..%3 of a %4 px toolbar")
                            .arg(a->isSeparator() ? QString("separator") : a->text())
                            .arg(item->x())
                            .arg(item->geometry().right())
                            .arg(bar->width())));
  }
  for (QToolButton* b : bar->findChildren<QToolButton*>("qt_toolbar_ext_button")) QVERIFY(!b->isVisible());
  // Every column of the layer table is in view, none behind a horizontal
  // scrollbar (at 1280x680 Params and the columns after it were).
  QTableView* table = w.layerTable();
  QHeaderView* header = table->horizontalHeader();
  QStringList widths;
  for (int c = 0; c < header->count(); ++c)
    widths
        << QString("%1 %2").arg(table->model()->headerData(c, Qt::Horizontal).toString()).arg(header->sectionSize(c));
  QVERIFY2(!table->horizontalScrollBar()->isVisible(),
           qPrintable(QString("%1 px table: %2").arg(table->viewport()->width()).arg(widths.join(", "))));
  for (int c = 0; c < header->count(); ++c) {
    const int right = header->sectionViewportPosition(c) + header->sectionSize(c);
    QVERIFY2(header->sectionViewportPosition(c) >= 0 && right <= table->viewport()->width(),
             qPrintable(QString("column '%1' at %2..%3 of a %4 px table")
                            .arg(table->model()->headerData(c, Qt::Horizontal).toString())
                            .arg(header->sectionViewportPosition(c))
                            .arg(right)
                            .arg(table->viewport()->width())));
    // Wide enough for its header and for what its cells say (the layer
    // names may be elided, the tooltip has them whole).
    if (c != LayerTableModel::Name) {
      int need = header->sectionSizeHint(c);
      for (int r = 0; r < table->model()->rowCount(); ++r)
        need =
            std::max(need, table->fontMetrics().horizontalAdvance(table->model()->index(r, c).data().toString()) + 8);
      QVERIFY2(header->sectionSize(c) >= need,
               qPrintable(QString("column '%1' is %2 px, its text needs %3")
                              .arg(table->model()->headerData(c, Qt::Horizontal).toString())
                              .arg(header->sectionSize(c))
                              .arg(need)));
    }
  }
  // The sparsity editor (slider and spin box) opens at its full width over
  // the narrow column's neighbours, inside the table.
  const QModelIndex sparsity = table->model()->index(1, LayerTableModel::Sparsity);
  table->setCurrentIndex(sparsity);
  table->edit(sparsity);
  QWidget* editor = table->indexWidget(sparsity);
  QVERIFY(editor);
  QTRY_VERIFY(editor->isVisible());
  QVERIFY2(editor->width() >= editor->sizeHint().width() && editor->x() >= 0 &&
               editor->geometry().right() < table->viewport()->width(),
           qPrintable(QString("editor %1 px at x %2 (wants %3) in a %4 px table")
                          .arg(editor->width())
                          .arg(editor->x())
                          .arg(editor->sizeHint().width())
                          .arg(table->viewport()->width())));
  QTest::keyClick(editor, Qt::Key_Escape);
  // The weights heatmap gets room for more than one row of filters (it had 54 px).
  QWidget* heatmapArea = w.heatmaps()->view()->parentWidget();  // the scroll area's viewport
  QVERIFY(heatmapArea && heatmapArea->isVisible());
  QVERIFY2(heatmapArea->height() >= 140, qPrintable(QString("heatmap %1 px tall").arg(heatmapArea->height())));
  qInfo("heatmap %d px tall, layer table %d px wide", heatmapArea->height(), table->viewport()->width());
  // And the preview keeps a chart tall enough for its axes to be read.
  ParetoChart* chart = nullptr;  // the one on the current tab
  for (ParetoChart* c : w.previewPanel()->findChildren<ParetoChart*>())
    if (c->isVisible()) chart = c;
  QVERIFY(chart);
  // (Qt Charts elides every accuracy label to "..." once they would touch.)
  const double plot = chart->chart()->plotArea().height();
  const auto vertical = chart->chart()->axes(Qt::Vertical);
  QVERIFY(!vertical.isEmpty());
  auto* ay = qobject_cast<QValueAxis*>(vertical.first());
  QVERIFY(ay);
  const double spacing = plot / std::max(1, ay->tickCount() - 1);
  const int label = QFontMetrics(ay->labelsFont()).height();
  QVERIFY2(spacing >= 1.5 * label,
           qPrintable(QString("accuracy ticks %1 px apart for %2 px labels (plot %3 px, chart %4 px)")
                          .arg(spacing)
                          .arg(label)
                          .arg(plot)
                          .arg(chart->height())));
}

QTEST_MAIN(TestUsability)
void TestUsability::narrowTableKeepsNames() {
  // A window narrower than the layer table's numbers need (1100 px: 440 px
  // for the layers dock) used to squeeze the names to "c…1": they now keep a
  // readable width and the table scrolls sideways; once the dock is wide
  // again, every column is in view and the names take the rest.
  MainWindow w;
  QVERIFY(showWithDemo(w));
  auto* table = qobject_cast<LayerTableView*>(w.layerTable());
  QVERIFY(table);
  QHeaderView* header = table->horizontalHeader();
  auto* dock = w.findChild<QDockWidget*>("LayersDock");
  QVERIFY(dock);
  const QFontMetrics fm(table->font());
  const int conv1 = fm.horizontalAdvance("conv1");
  auto columnsWidth = [&] {
    int sum = 0;
    for (int c = 0; c < header->count(); ++c) sum += header->sectionSize(c);
    return sum;
  };
  w.resize(1100, 700);
  w.resizeDocks({dock}, {300}, Qt::Horizontal);
  QTRY_VERIFY(table->viewport()->width() < columnsWidth() - header->sectionSize(LayerTableModel::Name) + conv1);
  QTRY_VERIFY2(header->sectionSize(LayerTableModel::Name) >= table->nameColumnFloor(),
               qPrintable(QString("name column %1 px, floor %2, table %3 px")
                              .arg(header->sectionSize(LayerTableModel::Name))
                              .arg(table->nameColumnFloor())
                              .arg(table->viewport()->width())));
  QVERIFY(table->nameColumnFloor() > conv1);
  QTRY_VERIFY(table->horizontalScrollBar()->isVisible());
  w.grab().save(guitest::screenshotDir() + "/layer-table-narrow.png");
  w.resize(1600, 900);
  w.resizeDocks({dock}, {700}, Qt::Horizontal);
  QTRY_VERIFY(!table->horizontalScrollBar()->isVisible());
  // No gap after the last column, none behind the scrollbar: the names fill it.
  QTRY_COMPARE(columnsWidth(), table->viewport()->width());
  QVERIFY(header->sectionSize(LayerTableModel::Name) > table->nameColumnFloor());
}

#include "test_usability.moc"
