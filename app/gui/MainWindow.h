// The workbench window: layer graph in the centre; layer table, weights,
// preview and jobs as dock widgets the user can rearrange (state kept in
// QSettings). Opens models on a worker thread; every engine call runs off
// the GUI thread.
#pragma once

#include <QFutureWatcher>
#include <QJsonObject>
#include <QMainWindow>
#include <memory>

#include "LoadedModel.h"

class ModelDocument;
class GraphScene;
class GraphView;
class LayerTableModel;
class HeatmapPanel;
class GlobalControls;
class RecentFiles;
class PreviewController;
class PreviewPanel;
class JobPanel;
class NoticeLabel;
class SessionStore;
class QTableView;
class QLabel;
class QLineEdit;
class QComboBox;
class QProgressBar;
class QDockWidget;
class QMenu;

class QAction;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Starts loading a model in the background; modelOpened/openFailed follow.
  void openModel(const QString& path);
  // What main() opens when no file is given: the last file, else the demo.
  QString defaultModel() const;

  ModelDocument* document() const { return doc_; }
  GraphScene* graphScene() const { return scene_; }
  GraphView* graphView() const { return view_; }
  LayerTableModel* layerModel() const { return tableModel_; }
  QTableView* layerTable() const { return table_; }
  HeatmapPanel* heatmaps() const { return heatmaps_; }
  GlobalControls* globalControls() const { return controls_; }
  PreviewController* previewController() const { return preview_; }
  PreviewPanel* previewPanel() const { return previewPanel_; }
  JobPanel* jobPanel() const { return jobs_; }
  SessionStore* sessions() const { return sessions_; }
  QLineEdit* findField() const { return find_; }
  QComboBox* groupBox() const { return groups_; }
  // The first-start arrangement at `size` (also used by the screenshot test).
  void applyDefaultLayout(const QSize& size);

  // Opens a .topiary session: its model, then its plan and tried points.
  bool openSession(const QString& path, QString* error);
  // Offers to recover an autosaved session from a crashed run (asks when
  // `ask`; otherwise recovers). Returns true when one was recovered.
  bool recoverIfCrashed(bool ask);

  // Selects a node everywhere (graph, table, heatmaps, group highlight).
  void selectLayer(const QString& name);
  // Highlights the nodes of dependency group `id` (-1 clears).
  void highlightGroup(int id);
  void setEngineStatus(const QString& text);
  QString engineStatus() const;
  // The last session write that failed (autosave or save; path and reason),
  // flagged in the status bar until a later write of that kind succeeds;
  // empty when none has failed.
  // Kept apart from the engine status, which every preview replaces.
  QString sessionProblem() const;
  // The open model's load warnings, one per line (empty when it has none):
  // shown in their own status-bar label until another model opens.
  QString modelWarnings() const;

 signals:
  void modelOpened(const QString& path);
  void openFailed(const QString& message);
  // A session opened, but not all of it: e.g. its fine-tuned weights file is
  // missing or damaged, so it opened on the model file's weights.
  void sessionWarning(const QString& message);

 protected:
  void closeEvent(QCloseEvent* e) override;
  void showEvent(QShowEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  void buildDocks();
  void buildMenus();
  void onModelLoaded();
  void onGraphSelection(const QString& name);
  void onTableSelection();
  void refreshShading();
  void refreshGroups();
  void findNext();
  void openDialog();
  void startLoad(const QString& path);
  // What a load on the worker brings back: the model and, for a session
  // with fine-tuned weights, those weights (or why they could not be read).
  struct LoadOutcome {
    std::shared_ptr<const LoadedModel> model;
    QString error;
    std::shared_ptr<const LoadedModel> weights;
    QString weightsError;
  };
  void restoreWindowState();
  // Bumped when the default dock arrangement changes, so an old saved state
  // does not bring back a layout that no longer exists.
  static constexpr int kStateVersion = 3;
  void exportDialog();
  void saveSessionDialog();
  void openSessionDialog();

  ModelDocument* doc_;
  GraphScene* scene_;
  GraphView* view_;
  LayerTableModel* tableModel_;
  QTableView* table_;
  HeatmapPanel* heatmaps_;
  GlobalControls* controls_;
  RecentFiles* recent_;
  PreviewController* preview_;
  PreviewPanel* previewPanel_;
  QDockWidget* previewDock_;
  JobPanel* jobs_;
  QDockWidget* jobsDock_;
  SessionStore* sessions_;
  QJsonObject pendingSession_;
  // A model asked for while another still loads: opened when that load ends
  // (whose result is then dropped), so the GUI thread never waits on a load.
  QString queuedPath_;
  QAction* cancelJobAction_ = nullptr;
  QAction* fitAction_ = nullptr;
  QLineEdit* find_;
  QComboBox* groups_;
  QLabel* statusLabel_;
  NoticeLabel* sessionLabel_;
  bool sessionProblemIsAutosave_ = false;
  QLabel* modelLabel_;
  NoticeLabel* modelWarningLabel_;
  QMenu* recentMenu_;
  QMenu* viewMenu_;
  QDockWidget* layersDock_;
  QDockWidget* weightsDock_;
  QFutureWatcher<LoadOutcome> loader_;
  QString loadingPath_;
  QString selected_;
  int findIndex_ = 0;
  bool defaultLayoutPending_ = false;  // no saved layout: size the docks at the first show
};
