#include "GlobalControls.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QSpinBox>
#include <QStandardItemModel>

#include "ModelDocument.h"
#include "SparsityEditor.h"

GlobalControls::GlobalControls(ModelDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
  sparsity_ = new SparsityEditor(this);
  sparsity_->setToolTip(tr("Sets every unlocked layer to this sparsity"));
  auto combo = [this](const QStringList& items, const QString& tip) {
    auto* c = new QComboBox(this);
    c->addItems(items);
    c->setToolTip(tip);
    return c;
  };
  // "layer" removes named layers only (a recipe's default cannot be "layer").
  QStringList defaults = PrunePlan::granularities();
  defaults.removeAll("layer");
  granularity_ = combo(defaults, tr("Default granularity of layers without their own setting; a layer it does not "
                                    "apply to runs with its own kind (filter <-> neuron) or stays dense (the "
                                    "layer table says which)"));
  criterion_ = combo(PrunePlan::criteria(), tr("Default importance criterion"));
  ranking_ = combo({tr("per layer"), tr("global")}, tr("Rank units within each layer, or across all layers"));
  method_ = combo(PrunePlan::methods(), tr("magnitude: one-shot masks; admm / dns: applied by a fine-tune job"));
  schedule_ = combo(PrunePlan::schedules(), tr("How the target sparsity is reached during fine-tuning"));
  steps_ = new QSpinBox(this);
  steps_->setRange(1, 100);
  steps_->setPrefix(tr("steps "));
  bits_ = new QSpinBox(this);
  bits_->setRange(0, 8);
  bits_->setSpecialValueText(tr("float32"));
  bits_->setSuffix(tr(" bit"));
  bits_->setToolTip(tr("Weight quantization applied after pruning (0: none)"));
  storage_ = combo(PrunePlan::storageFormats(), tr("Storage format the model size is counted in"));
  // Names for tests and style sheets.
  granularity_->setObjectName("granularity");
  criterion_->setObjectName("criterion");
  ranking_->setObjectName("ranking");
  method_->setObjectName("method");
  schedule_->setObjectName("schedule");
  steps_->setObjectName("steps");
  bits_->setObjectName("bits");
  storage_->setObjectName("storage");

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(4, 4, 4, 4);
  grid->setHorizontalSpacing(6);
  grid->setVerticalSpacing(3);
  int r = 0;
  grid->addWidget(new QLabel(tr("All layers"), this), r, 0);
  grid->addWidget(sparsity_, r, 1, 1, 3);
  ++r;
  grid->addWidget(new QLabel(tr("Granularity"), this), r, 0);
  grid->addWidget(granularity_, r, 1);
  grid->addWidget(new QLabel(tr("Criterion"), this), r, 2);
  grid->addWidget(criterion_, r, 3);
  ++r;
  grid->addWidget(new QLabel(tr("Ranking"), this), r, 0);
  grid->addWidget(ranking_, r, 1);
  grid->addWidget(new QLabel(tr("Method"), this), r, 2);
  grid->addWidget(method_, r, 3);
  ++r;
  grid->addWidget(new QLabel(tr("Schedule"), this), r, 0);
  grid->addWidget(schedule_, r, 1);
  grid->addWidget(steps_, r, 2, 1, 2);
  ++r;
  grid->addWidget(new QLabel(tr("Quantize"), this), r, 0);
  grid->addWidget(bits_, r, 1);
  grid->addWidget(new QLabel(tr("Storage"), this), r, 2);
  grid->addWidget(storage_, r, 3);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  connect(sparsity_, &SparsityEditor::valueChanged, this, [this](double v) {
    if (!syncing_) doc_->editAllSparsity(v);
  });
  connect(sparsity_, &SparsityEditor::editingFinished, doc_, &ModelDocument::endEditGesture);
  const QList<QPair<QComboBox*, QString>> combos = {{granularity_, tr("default granularity")},
                                                    {criterion_, tr("default criterion")},
                                                    {ranking_, tr("ranking")},
                                                    {method_, tr("method")},
                                                    {schedule_, tr("schedule")},
                                                    {storage_, tr("storage format")}};
  for (const auto& [c, what] : combos) {
    const QString name = what;
    // A choice is a gesture of its own: two choices are two undo steps.
    connect(c, &QComboBox::currentIndexChanged, this, [this, name] {
      commit(name);
      doc_->endEditGesture();
    });
  }
  connect(steps_, &QSpinBox::valueChanged, this, [this] { commit(tr("schedule steps")); });
  connect(bits_, &QSpinBox::valueChanged, this, [this] { commit(tr("quantization bits")); });
  connect(steps_, &QSpinBox::editingFinished, doc_, &ModelDocument::endEditGesture);
  connect(bits_, &QSpinBox::editingFinished, doc_, &ModelDocument::endEditGesture);
  connect(doc_, &ModelDocument::planChanged, this, &GlobalControls::syncFromDocument);
  connect(doc_, &ModelDocument::modelChanged, this, &GlobalControls::syncFromDocument);
  syncFromDocument();
}

void GlobalControls::commit(const QString& what) {
  if (syncing_) return;
  GlobalPlan g = doc_->plan().global();
  g.granularity = granularity_->currentText();
  g.criterion = criterion_->currentText();
  if (g.criterion == "bn_scale" && !bnScaleApplies(*doc_, g.granularity)) g.criterion = "l1";
  g.globalRanking = ranking_->currentIndex() == 1;
  g.method = method_->currentText();
  g.schedule = schedule_->currentText();
  g.scheduleSteps = steps_->value();
  g.quantBits = bits_->value();
  g.storage = storage_->currentText();
  doc_->editGlobal(g, tr("Change %1").arg(what));
}

void GlobalControls::syncFromDocument() {
  syncing_ = true;
  const GlobalPlan& g = doc_->plan().global();
  sparsity_->setValue(g.sparsity);
  granularity_->setCurrentText(g.granularity);
  criterion_->setCurrentText(g.criterion);
  ranking_->setCurrentIndex(g.globalRanking ? 1 : 0);
  method_->setCurrentText(g.method);
  schedule_->setCurrentText(g.schedule);
  steps_->setValue(g.scheduleSteps);
  steps_->setEnabled(g.schedule != "one-shot");
  bits_->setValue(g.quantBits);
  storage_->setCurrentText(g.storage);
  updateCriterionChoices();
  syncing_ = false;
}

bool GlobalControls::bnScaleApplies(const ModelDocument& doc, const QString& granularity) {
  if (granularity != "filter" && granularity != "channel" && granularity != "neuron") return false;
  if (!doc.hasModel()) return true;
  for (const LayerInfo& li : doc.model()->layers) {
    if (doc.plan().hasOwnPlan(li.name)) continue;
    const QString g = li.caps.inherited(granularity);
    if (g.isEmpty()) continue;  // left dense
    if (!li.caps.criteria(g).contains("bn_scale")) return false;
  }
  return true;
}

void GlobalControls::updateCriterionChoices() {
  // Greyed out rather than removed, with the reason on hover.
  auto* items = qobject_cast<QStandardItemModel*>(criterion_->model());
  const int i = criterion_->findText("bn_scale");
  if (!items || i < 0) return;
  const bool ok = bnScaleApplies(*doc_, granularity_->currentText());
  QStandardItem* item = items->item(i);
  item->setEnabled(ok);
  item->setToolTip(ok ? tr("|gamma| of the BatchNormalization in each layer's group")
                      : tr("needs a filter, channel or neuron granularity and a BatchNormalization in every "
                           "group the default prunes"));
}
