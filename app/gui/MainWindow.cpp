#include "MainWindow.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QScrollBar>
#include <QSettings>
#include <QShowEvent>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent>

#include "Exporter.h"
#include "GlobalControls.h"
#include "GraphNodeItem.h"
#include "GraphScene.h"
#include "GraphView.h"
#include "HeatmapPanel.h"
#include "JobPanel.h"
#include "LayerTableDelegate.h"
#include "LayerTableModel.h"
#include "LayerTableView.h"
#include "ModelDocument.h"
#include "NoticeLabel.h"
#include "PreviewController.h"
#include "PreviewPanel.h"
#include "RecentFiles.h"
#include "ResourceLocator.h"
#include "SessionStore.h"
#include "analysis/AnalysisMenu.h"

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("Topiary"));
  setAcceptDrops(true);
  setDockOptions(AnimatedDocks | AllowNestedDocks | AllowTabbedDocks);
  doc_ = new ModelDocument(this);
  recent_ = new RecentFiles(this);
  preview_ = new PreviewController(doc_, this);
  sessions_ = new SessionStore(doc_, this);

  // Centre: the graph with its own small toolbar (fit, zoom, find, groups).
  scene_ = new GraphScene(this);
  view_ = new GraphView;
  view_->setScene(scene_);
  auto* centre = new QWidget(this);
  auto* bar = new QToolBar(centre);
  bar->setIconSize(QSize(16, 16));
  find_ = new QLineEdit(centre);
  find_->setPlaceholderText(tr("Find layer (Ctrl+F)"));
  find_->setClearButtonEnabled(true);
  // The toolbar must hold everything in the ~420 px the centre keeps in a
  // 1280 px window (applyDefaultLayout): the find field grows up to 220 px
  // when there is room, and the Group box shows at least 11 characters of a
  // group's name (the list shows them whole).
  find_->setMinimumWidth(120);
  find_->setMaximumWidth(220);
  groups_ = new QComboBox(centre);
  groups_->setToolTip(tr("Dependency groups: channels that must be pruned together"));
  groups_->setMinimumContentsLength(11);
  groups_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  groups_->view()->setTextElideMode(Qt::ElideNone);
  // With room to spare (a wider window) the box takes it, up to 320 px.
  groups_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  groups_->setMaximumWidth(320);
  auto* centreLayout = new QVBoxLayout(centre);
  centreLayout->setContentsMargins(0, 0, 0, 0);
  centreLayout->setSpacing(0);
  centreLayout->addWidget(bar);
  centreLayout->addWidget(view_, 1);
  setCentralWidget(centre);
  QAction* fit = bar->addAction(tr("Fit"), view_, &GraphView::fitAll);
  fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  fit->setToolTip(tr("Fit the graph to the window (Ctrl+0)"));
  fitAction_ = fit;
  QAction* zin = bar->addAction(tr(" + "), this, [this] { view_->zoomBy(1.25); });
  zin->setShortcut(QKeySequence::ZoomIn);
  zin->setToolTip(tr("Zoom in (Ctrl++, or the mouse wheel)"));
  QAction* zout = bar->addAction(tr(" - "), this, [this] { view_->zoomBy(0.8); });
  zout->setShortcut(QKeySequence::ZoomOut);
  zout->setToolTip(tr("Zoom out (Ctrl+-, or the mouse wheel)"));
  bar->addSeparator();
  bar->addWidget(find_);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr("Group "), centre));
  bar->addWidget(groups_);
  connect(find_, &QLineEdit::returnPressed, this, &MainWindow::findNext);
  connect(find_, &QLineEdit::textChanged, this, [this] { findIndex_ = 0; });
  connect(groups_, &QComboBox::activated, this, [this](int i) { highlightGroup(groups_->itemData(i).toInt()); });

  buildDocks();
  buildMenus();
  new AnalysisMenu(this);  // Analysis menu and its docks (app/gui/analysis/)

  statusLabel_ = new QLabel(tr("Ready"), this);
  modelLabel_ = new QLabel(this);
  statusBar()->addWidget(statusLabel_, 1);
  statusBar()->addPermanentWidget(modelLabel_);

  // The open model's load warnings (an operator the engine lacks, unknown
  // shapes) stay in their own label while it is open: the engine status
  // beside it changes as soon as the first preview finishes.
  modelWarningLabel_ = new NoticeLabel("ModelWarnings", "#8a5a00", this);
  statusBar()->addPermanentWidget(modelWarningLabel_);

  connect(scene_, &GraphScene::nodeSelected, this, &MainWindow::onGraphSelection);
  connect(&loader_, &QFutureWatcher<LoadOutcome>::finished, this, &MainWindow::onModelLoaded);
  // Session write failures stay in their own label until a write of the same
  // kind succeeds: the engine status beside it changes with every preview.
  sessionLabel_ = new NoticeLabel("SessionProblem", "#b00020", this);
  statusBar()->addPermanentWidget(sessionLabel_);
  auto showSessionProblem = [this](bool autosave, const QString& text, const QString& detail) {
    sessionProblemIsAutosave_ = autosave;
    sessionLabel_->setNotice(text, detail);
  };
  connect(sessions_, &SessionStore::saved, this, [this, showSessionProblem](const QString& path) {
    setEngineStatus(tr("Saved session %1").arg(path));
    if (!sessionProblemIsAutosave_) showSessionProblem(false, QString(), QString());
  });
  connect(sessions_, &SessionStore::autosaved, this, [this, showSessionProblem](const QString&) {
    if (sessionProblemIsAutosave_) showSessionProblem(false, QString(), QString());
  });
  connect(sessions_, &SessionStore::saveFailed, this,
          [this, showSessionProblem](const QString& path, const QString& err) {
            showSessionProblem(false, tr("Session not saved"), tr("%1 was not saved: %2").arg(path, err));
            setEngineStatus(tr("Session not saved: %1").arg(err));
            if (isVisible()) QMessageBox::warning(this, tr("Save session"), tr("%1 was not saved: %2").arg(path, err));
          });
  // Retried after every change: a dialog each time would interrupt every edit.
  connect(sessions_, &SessionStore::autosaveFailed, this,
          [this, showSessionProblem](const QString& path, const QString& err) {
            const QString text =
                tr("Autosave to %1 failed (no recovery after a crash until it works): %2").arg(path, err);
            showSessionProblem(true, tr("Autosave failing"), text);
            setEngineStatus(text);
          });
  connect(doc_, &ModelDocument::planChanged, this, &MainWindow::refreshShading);
  connect(doc_, &ModelDocument::previewChanged, this, [this] {
    refreshShading();
    if (!selected_.isEmpty())
      heatmaps_->showLayer(doc_->model(), selected_, doc_->preview().masks, doc_->plan().layerPlan(selected_).criterion);
  });
  connect(recent_, &RecentFiles::openRequested, this, &MainWindow::openModel);
  restoreWindowState();
}

MainWindow::~MainWindow() { loader_.waitForFinished(); }

void MainWindow::buildDocks() {
  // Layers: global controls above the table.
  tableModel_ = new LayerTableModel(doc_, this);
  table_ = new LayerTableView;
  table_->setModel(tableModel_);
  table_->setItemDelegate(new LayerTableDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                          QAbstractItemView::EditKeyPressed | QAbstractItemView::AnyKeyPressed);
  table_->verticalHeader()->setVisible(false);
  table_->verticalHeader()->setDefaultSectionSize(24);
  // The numbers and choices take the width their text needs (about 400 px in
  // all), the layer names the rest, elided in the middle ("model/co…/BiasAdd";
  // the tooltip has them whole), down to about 12 characters (LayerTableView);
  // with a fixed width for each, Params and the columns after it sat behind a
  // horizontal scrollbar at 1280x680.
  table_->setWordWrap(false);  // wrapped at a '/', a name was cut at its end whatever the elide mode
  table_->setTextElideMode(Qt::ElideMiddle);
  table_->setAlternatingRowColors(true);
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onTableSelection);
  controls_ = new GlobalControls(doc_, this);
  auto* layersWidget = new QWidget(this);
  auto* ll = new QVBoxLayout(layersWidget);
  ll->setContentsMargins(0, 0, 0, 0);
  ll->addWidget(controls_);
  ll->addWidget(table_, 1);
  layersDock_ = new QDockWidget(tr("Layers"), this);
  layersDock_->setObjectName("LayersDock");
  layersDock_->setWidget(layersWidget);
  addDockWidget(Qt::LeftDockWidgetArea, layersDock_);

  heatmaps_ = new HeatmapPanel(this);
  weightsDock_ = new QDockWidget(tr("Weights"), this);
  weightsDock_->setObjectName("WeightsDock");
  weightsDock_->setWidget(heatmaps_);

  previewPanel_ = new PreviewPanel(doc_, this);
  previewDock_ = new QDockWidget(tr("Preview"), this);
  previewDock_->setObjectName("PreviewDock");
  previewDock_->setWidget(previewPanel_);
  connect(preview_, &PreviewController::busyChanged, this, [this](bool busy) {
    previewPanel_->setBusy(busy);
    if (busy) setEngineStatus(tr("Engine: computing masks, accuracy, size and latency..."));
  });
  connect(preview_, &PreviewController::resultReady, this, [this](const PreviewResult& r) {
    setEngineStatus(tr("Engine: idle. Last preview %1 ms%2")
                        .arg(r.elapsedMs, 0, 'f', 0)
                        .arg(r.accuracyValid ? tr(", accuracy %1%").arg(r.accuracy * 100, 0, 'f', 2) : QString()));
  });
  connect(preview_, &PreviewController::estimateReady, this, [this](const PreviewResult& r) {
    setEngineStatus(tr("Engine: estimate after %1 ms (accuracy %2% on %3 images); refining on %4...")
                        .arg(r.elapsedMs, 0, 'f', 0)
                        .arg(r.accuracy * 100, 0, 'f', 1)
                        .arg(r.samples)
                        .arg(r.totalSamples));
  });
  connect(preview_, &PreviewController::failed, this, [this](const QString& m) {
    previewPanel_->showError(m);
    setEngineStatus(tr("Engine: preview failed"));
  });
  jobs_ = new JobPanel(doc_, this);
  jobsDock_ = new QDockWidget(tr("Jobs"), this);
  jobsDock_->setObjectName("JobsDock");
  jobsDock_->setWidget(jobs_);
  // Default arrangement (the user may move everything; restoreWindowState
  // brings theirs back): preview above weights on the right, jobs tabbed
  // with the weights, so the graph gets the full height in the centre.
  addDockWidget(Qt::RightDockWidgetArea, previewDock_);
  splitDockWidget(previewDock_, weightsDock_, Qt::Vertical);
  tabifyDockWidget(weightsDock_, jobsDock_);  // (on a small screen under the layers: applyDefaultLayout)
  connect(jobs_, &JobPanel::jobStarted, this, [this](const QString& w) { setEngineStatus(tr("Engine: %1 running").arg(w)); });
  connect(jobs_, &JobPanel::jobFinished, this, [this](const JobOutcome& o) { setEngineStatus(tr("Engine: %1").arg(o.message)); });
  weightsDock_->raise();

  connect(previewPanel_, &PreviewPanel::restoreRequested, this, [this](int i) {
    if (i >= 0 && i < doc_->tried().size()) doc_->restorePlan(doc_->tried()[i].plan, tr("Restore tried configuration"));
  });
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open Model..."), QKeySequence::Open, this, &MainWindow::openDialog);
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  connect(recentMenu_, &QMenu::aboutToShow, this, [this] { recent_->fillMenu(recentMenu_); });
  QAction* demo = file->addAction(tr("Open &Demo Model"), this, [this] {
    QString d = ResourceLocator::demoModel();
    if (d.isEmpty()) QMessageBox::information(this, tr("Demo model"), tr("resources/models/lenet5.onnx was not found."));
    else openModel(d);
  });
  demo->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
  file->addSeparator();
  file->addAction(tr("Open &Session..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this,
                  &MainWindow::openSessionDialog);
  file->addAction(tr("Save Session &As..."), QKeySequence::Save, this, &MainWindow::saveSessionDialog);
  file->addAction(tr("&Export Pruned Model..."), QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportDialog);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  QAction* undo = doc_->undoStack()->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction* redo = doc_->undoStack()->createRedoAction(this, tr("&Redo"));
  redo->setShortcut(QKeySequence::Redo);
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addSeparator();
  edit->addAction(tr("&Find Layer"), QKeySequence::Find, this, [this] {
    find_->setFocus();
    find_->selectAll();
  });

  viewMenu_ = menuBar()->addMenu(tr("&View"));
  viewMenu_->addAction(layersDock_->toggleViewAction());
  viewMenu_->addAction(weightsDock_->toggleViewAction());
  viewMenu_->addAction(previewDock_->toggleViewAction());
  viewMenu_->addAction(jobsDock_->toggleViewAction());
  QMenu* jobs = menuBar()->addMenu(tr("&Jobs"));
  jobs->addAction(tr("&Fine-tune 1 Epoch"), QKeySequence(Qt::CTRL | Qt::Key_T), this, [this] {
    topiary::TrainOptions o;
    o.epochs = 1;
    jobs_->startFineTune(o);
  });
  jobs->addAction(tr("Run Plan with &ADMM"), this, [this] { jobs_->startPruneJob("admm", 1); });
  jobs->addAction(tr("Run Plan with &DNS"), this, [this] { jobs_->startPruneJob("dns", 1); });
  jobs->addAction(tr("Run Plan on an A&GP Schedule"), this, [this] { jobs_->startPruneJob("agp", 1); });
  jobs->addAction(tr("&Benchmark Latency"), QKeySequence(Qt::CTRL | Qt::Key_B), this, [this] { jobs_->startBenchmark(); });
  // Esc cancels a running job; while none runs the action is disabled so
  // that Esc still closes a table editor or clears the find box.
  cancelJobAction_ = jobs->addAction(tr("&Cancel Job"), QKeySequence(Qt::Key_Escape), jobs_, &JobPanel::cancel);
  cancelJobAction_->setEnabled(false);
  connect(jobs_, &JobPanel::jobStarted, cancelJobAction_, [this] { cancelJobAction_->setEnabled(true); });
  connect(jobs_, &JobPanel::jobFinished, cancelJobAction_, [this] { cancelJobAction_->setEnabled(false); });
  viewMenu_->addSeparator();
  // The toolbar's action (one shortcut, two places: a second action on Ctrl+0 would make it ambiguous).
  fitAction_->setText(tr("&Fit Graph"));
  fitAction_->setIconText(tr("Fit"));  // the toolbar keeps its short label (the Group box must fit beside it)
  viewMenu_->addAction(fitAction_);
}

void MainWindow::restoreWindowState() {
  QSettings s;
  resize(1600, 1000);
  const bool geometry = restoreGeometry(s.value("window/geometry").toByteArray());
  const bool state = restoreState(s.value("window/state").toByteArray(), kStateVersion);
  defaultLayoutPending_ = !geometry || !state;
}

void MainWindow::showEvent(QShowEvent* e) {
  QMainWindow::showEvent(e);
  if (!defaultLayoutPending_) return;
  defaultLayoutPending_ = false;
  // First start: a 1600x1000 window (or the screen, if smaller) and dock
  // sizes that give the graph the centre. Done once shown, because the dock
  // layout only takes sizes after its first activation.
  QSize size(1600, 1000);
  if (screen()) size = size.boundedTo(screen()->availableGeometry().size());
  applyDefaultLayout(size);
}

void MainWindow::applyDefaultLayout(const QSize& size) {
  resize(size);
  // A compact arrangement below 800 px of height or 1440 px of width: there
  // the right column could not hold the preview, the weights and the
  // Weights/Jobs tabs together (at 1280x680 the heatmap got 54 px, one row of
  // filters, with the preview at its minimum), and a 380 px layer table hid
  // Params and the columns after it behind a horizontal scrollbar. The
  // weights and jobs go under the layer table, whose column they widen (the
  // jobs panel is 443 px wide), and the preview keeps the right column's
  // full height.
  const bool compact = size.height() < 800 || size.width() < 1440;
  if (compact)
    splitDockWidget(layersDock_, weightsDock_, Qt::Vertical);
  else
    splitDockWidget(previewDock_, weightsDock_, Qt::Vertical);
  tabifyDockWidget(weightsDock_, jobsDock_);
  weightsDock_->raise();
  if (compact) {
    // The centre keeps about 420 px for the graph and its toolbar; the left
    // column takes a little more of the rest than the preview (the table's
    // columns). The weights get a little over half the height: with the
    // demo's five layers the table shows them all, the heatmap 148 px.
    const int docks = std::max(700, size.width() - 430);
    const int left = std::min(540, docks * 55 / 100);
    resizeDocks({layersDock_, previewDock_}, {left, std::min(540, docks - left)}, Qt::Horizontal);
    const int weightsHeight = size.height() * 53 / 100;
    resizeDocks({layersDock_, weightsDock_}, {size.height() - weightsHeight, weightsHeight}, Qt::Vertical);
    return;
  }
  // Two side docks of at most 540 px: the centre keeps room for the graph's
  // toolbar (wider docks once hid the find field behind the toolbar's
  // overflow arrow, and Ctrl+F focused a hidden field).
  const int side = std::min(540, std::max(300, (size.width() - 520) / 2));
  resizeDocks({layersDock_, previewDock_}, {side, side}, Qt::Horizontal);
  // The preview takes about half the height (500 px of 1000); on a short
  // screen a fixed 500 left the weights below their minimum, and the dock
  // layout then squeezed the preview's chart until its axes were elided.
  const int previewHeight = std::min(500, size.height() * 11 / 20);
  resizeDocks({previewDock_, weightsDock_}, {previewHeight, size.height() - previewHeight}, Qt::Vertical);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState(kStateVersion));
  // A clean exit leaves no recovery file behind.
  sessions_->discardRecovery();
  e->accept();
}

namespace {

// The first dropped local file Topiary can open: a model or a session.
QString droppedFile(const QMimeData* mime) {
  if (!mime->hasUrls()) return {};
  for (const QUrl& u : mime->urls()) {
    if (!u.isLocalFile()) continue;
    const QString f = u.toLocalFile();
    if (f.endsWith(".onnx", Qt::CaseInsensitive) || f.endsWith(".topiary", Qt::CaseInsensitive)) return f;
  }
  return {};
}

}  // namespace

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  // Only what a drop can open, so the cursor says "no" over anything else.
  if (!droppedFile(e->mimeData()).isEmpty()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  const QString f = droppedFile(e->mimeData());
  if (f.isEmpty()) return;
  e->acceptProposedAction();
  if (!f.endsWith(".topiary", Qt::CaseInsensitive)) {
    openModel(f);
    return;
  }
  QString err;
  if (!openSession(f, &err)) {
    setEngineStatus(tr("Could not open session %1: %2").arg(QFileInfo(f).fileName(), err));
    emit openFailed(err);
  }
}

QString MainWindow::defaultModel() const {
  for (const QString& f : recent_->files())
    if (QFileInfo::exists(f) && f.endsWith(".onnx")) return f;
  return ResourceLocator::demoModel();
}

void MainWindow::openDialog() {
  QString dir = doc_->hasModel() ? QFileInfo(doc_->model()->path).absolutePath() : QString();
  QString f = QFileDialog::getOpenFileName(this, tr("Open ONNX model"), dir, tr("ONNX models (*.onnx);;All files (*)"));
  if (!f.isEmpty()) openModel(f);
}

void MainWindow::openModel(const QString& path) {
  setEngineStatus(tr("Loading %1...").arg(QFileInfo(path).fileName()));
  if (loader_.isRunning()) {
    queuedPath_ = path;  // the newest request wins; see onModelLoaded
    return;
  }
  startLoad(path);
}

void MainWindow::startLoad(const QString& path) {
  loadingPath_ = path;
  // A session's fine-tuned weights load with its model, on the same worker.
  QString weights;
  if (!pendingSession_.isEmpty() &&
      QFileInfo(pendingSession_["model"].toString()).absoluteFilePath() == QFileInfo(path).absoluteFilePath())
    weights = pendingSession_["weights"].toString();
  loader_.setFuture(QtConcurrent::run([path, weights] {
    LoadOutcome out;
    auto r = LoadedModel::load(path);
    if (!r) {
      out.error = QString::fromStdString(r.status().message());
      return out;
    }
    out.model = r.value();
    if (!weights.isEmpty()) {
      auto w = SessionStore::loadWeights(weights, *out.model);
      if (w)
        out.weights = w.value();
      else
        out.weightsError = QString::fromStdString(w.status().message());
    }
    return out;
  }));
}

void MainWindow::onModelLoaded() {
  if (!queuedPath_.isEmpty()) {  // superseded while loading: load the newer one instead
    const QString next = queuedPath_;
    queuedPath_.clear();
    startLoad(next);
    return;
  }
  const LoadOutcome r = loader_.result();
  if (!r.model) {
    const QString msg = r.error;
    setEngineStatus(tr("Could not open %1").arg(QFileInfo(loadingPath_).fileName()));
    // A session waiting for this model is dropped with it (left pending, its
    // plan landed on whatever model was opened next).
    pendingSession_ = QJsonObject();
    emit openFailed(msg);
    if (isVisible()) QMessageBox::warning(this, tr("Could not open model"), msg);
    return;
  }
  std::shared_ptr<const LoadedModel> m = r.model;
  recent_->add(m->path);
  selected_.clear();
  doc_->setModel(m);
  QSet<QString> prunable;
  for (const LayerInfo& li : m->layers) prunable.insert(li.name);
  scene_->setGraph(*m->graph, prunable);
  refreshGroups();
  view_->fitAll();
  heatmaps_->clear();
  setWindowTitle(tr("Topiary - %1").arg(QFileInfo(m->path).fileName()));
  modelLabel_->setText(tr("%1 nodes, %2 params").arg(m->graph->nodes.size()).arg(
      LayerTableModel::formatCount(double(m->graph->paramCount()))));
  QString status = tr("Opened %1").arg(QFileInfo(m->path).fileName());
  if (!m->warnings.isEmpty()) status += " (" + m->warnings.join("; ") + ")";
  setEngineStatus(status);
  const int warnings = int(m->warnings.size());
  modelWarningLabel_->setNotice(warnings == 0   ? QString()
                                : warnings == 1 ? tr("Warning: %1").arg(m->warnings.front())
                                                : tr("%1 warnings").arg(warnings),
                                m->warnings.join("\n"));
  table_->resizeColumnsToContents();
  if (!m->layers.isEmpty()) selectLayer(m->layers.front().name);
  if (!pendingSession_.isEmpty()) {
    // Only on the session's own model: another one opened meanwhile (a
    // newer request superseded the session's) gets a fresh plan.
    const QString sessionModel = pendingSession_["model"].toString();
    QString err;
    if (QFileInfo(sessionModel).absoluteFilePath() == QFileInfo(m->path).absoluteFilePath()) {
      // The weights first: new weights drop the tried points, which the session brings back.
      QString warning;
      if (r.weights)
        doc_->replaceWeights(r.weights, tr("Fine-tuned weights of the session"));
      else if (!r.weightsError.isEmpty())
        warning = r.weightsError;
      else if (pendingSession_["weights_fine_tuned"].toBool())
        warning = tr("the session names no file with its fine-tuned weights (key 'weights')");
      if (!SessionStore::applyTo(pendingSession_, *doc_, &err)) {
        setEngineStatus(tr("Session not applied: %1").arg(err));
      } else if (!warning.isEmpty()) {
        // The source model is left as it is; the plan still applies to its weights.
        warning = tr("The session opened on the weights of %1, not its fine-tuned ones: %2")
                      .arg(QFileInfo(m->path).fileName(), warning);
        setEngineStatus(warning);
        emit sessionWarning(warning);
        if (isVisible()) QMessageBox::warning(this, tr("Open session"), warning);
      }
    }
    pendingSession_ = QJsonObject();
  }
  emit modelOpened(m->path);
}

void MainWindow::refreshGroups() {
  groups_->clear();
  groups_->addItem(tr("(none)"), -1);
  if (!doc_->hasModel()) return;
  const auto& m = doc_->model();
  for (const auto& g : m->groups) {
    QStringList prod;
    for (const auto& p : g.producers) prod << QString::fromStdString(p);
    QString label = tr("#%1 %2 (%3 ch)%4")
                        .arg(g.id)
                        .arg(prod.isEmpty() ? QString::fromStdString(g.rootTensor) : prod.join("+"))
                        .arg(g.channels)
                        .arg(g.locked ? tr(" locked") : QString());
    groups_->addItem(label, g.id);
    groups_->setItemData(groups_->count() - 1, label, Qt::ToolTipRole);  // the box itself elides it
  }
  // The list is as wide as its longest entry, wider than the box if need be.
  groups_->view()->setMinimumWidth(groups_->view()->sizeHintForColumn(0) +
                                   groups_->view()->verticalScrollBar()->sizeHint().width());
  if (!m->groupsError.isEmpty()) groups_->setToolTip(tr("Dependency analysis failed: %1").arg(m->groupsError));
}

void MainWindow::highlightGroup(int id) {
  QSet<QString> names;
  if (doc_->hasModel())
    for (const auto& g : doc_->model()->groups)
      if (g.id == id)
        for (const auto& n : g.members) names.insert(QString::fromStdString(n));
  scene_->setHighlighted(names);
  int idx = groups_->findData(id);
  if (idx >= 0 && groups_->currentIndex() != idx) {
    QSignalBlocker b(groups_);
    groups_->setCurrentIndex(idx);
  }
}

void MainWindow::selectLayer(const QString& name) {
  if (name == selected_) return;
  selected_ = name;
  scene_->selectNode(name);
  int row = tableModel_->rowOf(name);
  {
    QSignalBlocker b(table_->selectionModel());
    if (row >= 0) {
      table_->selectRow(row);
      table_->scrollTo(tableModel_->index(row, 0));
    } else {
      table_->clearSelection();
    }
  }
  heatmaps_->showLayer(doc_->model(), name, doc_->preview().masks, doc_->plan().layerPlan(name).criterion);
  // Structured granularities act on the layer's dependency group: show it.
  int g = doc_->hasModel() ? doc_->model()->groupOfLayer(name) : -1;
  highlightGroup(g);
}

void MainWindow::onGraphSelection(const QString& name) {
  if (!name.isEmpty()) selectLayer(name);
}

void MainWindow::onTableSelection() {
  QModelIndexList rows = table_->selectionModel()->selectedRows();
  if (!rows.isEmpty()) selectLayer(tableModel_->layerAt(rows.first().row()));
}

void MainWindow::refreshShading() {
  if (!doc_->hasModel()) return;
  QHash<QString, double> s;
  const PreviewResult& pv = doc_->preview();
  for (const LayerInfo& li : doc_->model()->layers) {
    // Measured sparsity when a preview matches the plan (a locked or dense
    // layer can still lose input channels with a coupled layer), else the
    // target (none for a locked layer or one the default does not apply to).
    const LayerPlan lp = doc_->plan().layerPlan(li.name);
    double v = lp.locked || tableModel_->effectiveGranularity(tableModel_->rowOf(li.name)).isEmpty() ? 0.0 : lp.sparsity;
    if (pv.ok && pv.plan == doc_->plan()) v = pv.layerSparsity.value(li.name);
    s.insert(li.name, v);
  }
  scene_->setSparsity(s);
}

void MainWindow::findNext() {
  QStringList hits = scene_->findNodes(find_->text());
  if (hits.isEmpty()) {
    setEngineStatus(tr("No layer matches '%1'").arg(find_->text()));
    return;
  }
  QString name = hits[findIndex_ % hits.size()];
  ++findIndex_;
  selectLayer(name);
  view_->centerOnNode(name);
  setEngineStatus(tr("Match %1 of %2: %3").arg((findIndex_ - 1) % hits.size() + 1).arg(hits.size()).arg(name));
}

void MainWindow::setEngineStatus(const QString& text) { statusLabel_->setText(text); }
QString MainWindow::engineStatus() const { return statusLabel_->text(); }
QString MainWindow::modelWarnings() const { return modelWarningLabel_->detail(); }
QString MainWindow::sessionProblem() const { return sessionLabel_->detail(); }

bool MainWindow::openSession(const QString& path, QString* error) {
  QJsonObject s;
  if (!SessionStore::readJson(path, s, error)) return false;
  const QString model = s["model"].toString();
  if (!QFileInfo::exists(model)) {
    if (error) *error = tr("the session's model %1 does not exist (key 'model')").arg(model);
    return false;
  }
  // The weights file is named relative to the session's folder.
  if (s.contains("weights")) s["weights"] = SessionStore::weightsPathOf(s, path);
  pendingSession_ = s;
  openModel(model);
  return true;
}

bool MainWindow::recoverIfCrashed(bool ask) {
  if (!sessions_->hasRecovery()) return false;
  if (ask && QMessageBox::question(this, tr("Recover session"),
                                   tr("Topiary did not exit cleanly last time. Recover the autosaved session?")) !=
                 QMessageBox::Yes) {
    sessions_->discardRecovery();
    return false;
  }
  QString err;
  if (!openSession(sessions_->autosavePath(), &err)) {
    setEngineStatus(tr("Recovery failed: %1").arg(err));
    return false;
  }
  return true;
}

void MainWindow::saveSessionDialog() {
  if (!doc_->hasModel()) return;
  // The dialog adds the suffix to a name typed without one before it asks
  // whether to replace an existing file; adding it after the dialog replaced
  // an existing x.topiary without asking when "x" was typed.
  QFileDialog dialog(this, tr("Save session"), sessions_->currentPath(), tr("Topiary sessions (*.topiary)"));
  dialog.setAcceptMode(QFileDialog::AcceptSave);
  dialog.setDefaultSuffix("topiary");
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return;
  const QString f = dialog.selectedFiles().constFirst();
  QString err;
  if (sessions_->save(f, &err) && sessions_->busy())
    setEngineStatus(tr("Saving session %1 (writing the fine-tuned weights)...").arg(f));
}

void MainWindow::openSessionDialog() {
  QString f = QFileDialog::getOpenFileName(this, tr("Open session"), QString(), tr("Topiary sessions (*.topiary)"));
  if (f.isEmpty()) return;
  QString err;
  if (!openSession(f, &err)) QMessageBox::warning(this, tr("Open session"), err);
}

void MainWindow::exportDialog() {
  if (!doc_->hasModel()) return;
  QFileInfo src(doc_->model()->path);
  QString f = QFileDialog::getSaveFileName(this, tr("Export pruned model"),
                                           src.absolutePath() + "/" + src.completeBaseName() + "-pruned.onnx",
                                           tr("ONNX models (*.onnx)"));
  if (f.isEmpty()) return;
  setEngineStatus(tr("Engine: exporting %1...").arg(QFileInfo(f).fileName()));
  auto* watcher = new QFutureWatcher<ExportResult>(this);
  connect(watcher, &QFutureWatcher<ExportResult>::finished, this, [this, watcher] {
    ExportResult r = watcher->result();
    watcher->deleteLater();
    if (!r.ok) {
      setEngineStatus(tr("Export failed"));
      QMessageBox::warning(this, tr("Export"), r.error);
      return;
    }
    setEngineStatus(tr("Exported %1 and %2; reproduce with: %3").arg(r.modelPath, r.recipePath, r.cliCommand));
  });
  watcher->setFuture(QtConcurrent::run([m = doc_->model(), plan = doc_->plan(), f, mod = doc_->weightsModified()] {
    return Exporter::exportModel(*m, plan, f, QString(), mod);
  }));
}
