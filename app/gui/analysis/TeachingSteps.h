// The steps of the guided tour: what each one explains (text shown in the
// app, no links) and the plan it puts on the real model.
#pragma once

#include <QString>
#include <QVector>

#include "PrunePlan.h"

struct TeachingStep {
  QString title;
  QString text;    // rich text
  PrunePlan plan;  // what the step does to the model
  enum class Extra { None, Neuron, Dynamic, IndexOverhead } extra = Extra::None;
};

QVector<TeachingStep> teachingSteps();
