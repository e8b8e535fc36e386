#include "image_decoder.h"

#include "topiary/dataset.h"

#ifdef TOPIARY_HAS_QTGUI
#include <QImage>
#include <QImageReader>
#include <QString>
#endif

namespace cli {

void installImageDecoder() {
#ifdef TOPIARY_HAS_QTGUI
  topiary::setImageDecoder([](const std::string& path, int width, int height, std::vector<uint8_t>& pixels,
                              std::string& error) {
    QImageReader reader(QString::fromStdString(path));
    QImage img = reader.read();
    if (img.isNull()) {
      error = reader.errorString().toStdString();
      return false;
    }
    // Grayscale, then scaled to the network's input size.
    img = img.convertToFormat(QImage::Format_Grayscale8)
              .scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height));
    for (int y = 0; y < height; ++y) {
      const uchar* row = img.constScanLine(y);
      std::copy(row, row + width, pixels.begin() + static_cast<std::ptrdiff_t>(y) * width);
    }
    return true;
  });
#endif
}

}  // namespace cli
