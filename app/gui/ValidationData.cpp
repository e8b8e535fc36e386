#include "ValidationData.h"

const topiary::Dataset* ValidationData::forGraph(const topiary::Graph& graph, QString* why) {
  if (!tried_) {
    tried_ = true;
    topiary::DatasetOptions opt;
    opt.limit = limit_;
    auto d = topiary::loadDataset(spec_.toStdString(), opt);
    if (d) images_ = std::make_unique<topiary::Dataset>(std::move(d.value()));
    else loadError_ = QString::fromStdString(d.status().message());
  }
  if (!images_) {
    if (why) *why = loadError_;
    return nullptr;
  }
  if (graph.inputs.size() != 1 || !graph.inputs[0].hasShape) {
    if (why) *why = QStringLiteral("the model needs exactly one input with a declared shape");
    return nullptr;
  }
  const topiary::Shape in = graph.inputs[0].shape();
  const topiary::Shape& img = images_->images.shape();
  int64_t perSample = 1, perImage = 1;
  for (size_t d = 1; d < in.size(); ++d) perSample *= in[d];
  for (size_t d = 1; d < img.size(); ++d) perImage *= img[d];
  if (in.size() == img.size() && perSample == perImage) return images_.get();
  // [N, H, W] or channels-last [N, H, W, 1] inputs: each batch is reshaped
  // where it is fed (topiary::fitImagesToInput).
  if (topiary::fittedImageShape(img, graph.inputs[0]) != img) return images_.get();
  if (in.size() == 2 && in[1] == perImage) {
    if (!flat_) {
      flat_ = std::make_unique<topiary::Dataset>(*images_);
      flat_->images.reshapeInPlace({images_->size(), perImage});
    }
    return flat_.get();
  }
  if (why)
    *why = QString("%1 images are %2 but the model's input is %3")
               .arg(spec_, QString::fromStdString(topiary::shapeToString(img)),
                    QString::fromStdString(graph.inputs[0].shapeString()));
  return nullptr;
}
