#include <catch2/catch.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "murmur/nn/dataset.hpp"
#include "nn/temp_dir.hpp"

using namespace murmur;
using namespace murmur::nn;

namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::vector<std::uint8_t> idx_images(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
  std::vector<std::uint8_t> b;
  put_be32(b, 0x803);
  put_be32(b, n);
  put_be32(b, h);
  put_be32(b, w);
  for (std::uint32_t i = 0; i < n * h * w; ++i) b.push_back(static_cast<std::uint8_t>(i * 7));
  return b;
}

std::vector<std::uint8_t> idx_labels(std::uint32_t n, std::uint8_t classes = 10) {
  std::vector<std::uint8_t> b;
  put_be32(b, 0x801);
  put_be32(b, n);
  for (std::uint32_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(i % classes));
  return b;
}

void write_plain(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("IDX files are read gzip-compressed or plain", "[nn][data]") {
  test::temp_dir dir;
  write_gzip(dir / "train-images-idx3-ubyte.gz", idx_images(20, 4, 3));
  write_gzip(dir / "train-labels-idx1-ubyte.gz", idx_labels(20));
  write_plain(dir / "t10k-images-idx3-ubyte", idx_images(5, 4, 3));
  write_plain(dir / "t10k-labels-idx1-ubyte", idx_labels(5));
  auto d = load_mnist_like(dir.path(), "fashion-mnist");
  REQUIRE(d.ok());
  CHECK(d->train.size() == 20);
  CHECK(d->test.size() == 5);
  CHECK(d->train.height == 4);
  CHECK(d->train.width == 3);
  CHECK(d->train.channels == 1);
  CHECK(d->train.labels[13] == 3);
  CHECK(d->train.images[5] == 35);
  CHECK(d->test.mean == d->train.mean);
}

TEST_CASE("bad IDX files are rejected with a message naming the file", "[nn][data]") {
  test::temp_dir dir;
  const auto images = dir / "i", labels = dir / "l";
  const auto expect_error = [&](const std::string& fragment) {
    auto d = read_idx(images, labels);
    REQUIRE_FALSE(d.ok());
    INFO(d.err().message);
    CHECK(d.err().message.find(fragment) != std::string::npos);
  };
  SECTION("missing file") {
    write_plain(labels, idx_labels(3));
    expect_error("no such file");
  }
  SECTION("bad magic number") {
    auto b = idx_images(3, 2, 2);
    b[3] = 0x01;
    write_plain(images, b);
    write_plain(labels, idx_labels(3));
    expect_error("bad magic");
  }
  SECTION("truncated image data") {
    auto b = idx_images(3, 2, 2);
    b.resize(b.size() - 1);
    write_plain(images, b);
    write_plain(labels, idx_labels(3));
    expect_error("but the file has");
  }
  SECTION("label count differs from image count") {
    write_plain(images, idx_images(3, 2, 2));
    write_plain(labels, idx_labels(4));
    expect_error("4 labels for 3 images");
  }
  SECTION("label out of range") {
    write_plain(images, idx_images(3, 2, 2));
    auto l = idx_labels(3);
    l.back() = 12;
    write_plain(labels, l);
    expect_error("label 12");
  }
  SECTION("corrupt gzip stream") {
    auto b = idx_images(50, 8, 8);
    write_gzip(images, b);
    std::fstream f(images, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.write("garbagegarbage", 14);
    f.close();
    write_plain(labels, idx_labels(50));
    auto d = read_idx(images, labels);
    CHECK_FALSE(d.ok());
  }
}

TEST_CASE("CIFAR-10 binary batches are read into HWC order", "[nn][data]") {
  test::temp_dir dir;
  const auto record = [](std::uint8_t label, std::uint8_t base) {
    std::vector<std::uint8_t> r{label};
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) r.push_back(static_cast<std::uint8_t>(base + c * 10 + p % 7));
    return r;
  };
  for (int k = 1; k <= 5; ++k) {
    std::vector<std::uint8_t> file;
    for (int i = 0; i < 2; ++i) {
      auto r = record(static_cast<std::uint8_t>((k + i) % 10), static_cast<std::uint8_t>(k));
      file.insert(file.end(), r.begin(), r.end());
    }
    write_plain(dir / ("data_batch_" + std::to_string(k) + ".bin"), file);
  }
  write_plain(dir / "test_batch.bin", record(9, 100));
  auto d = load_cifar10(dir.path());
  REQUIRE(d.ok());
  CHECK(d->train.size() == 10);
  CHECK(d->test.size() == 1);
  CHECK(d->test.labels[0] == 9);
  // Pixel 5, channel 2 of the test image: base 100 + 20 + 5 % 7.
  CHECK(d->test.images[5 * 3 + 2] == 125);
  SECTION("a truncated batch is rejected") {
    std::filesystem::resize_file(dir / "data_batch_3.bin", 3073 + 100);
    auto bad = load_cifar10(dir.path());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.err().message.find("data_batch_3.bin") != std::string::npos);
  }
}

TEST_CASE("unknown data sets and missing folders are errors", "[nn][data]") {
  CHECK_FALSE(load_dataset("imagenet", "").ok());
  CHECK_FALSE(load_dataset("fashion-mnist", "/nonexistent/folder").ok());
  CHECK_FALSE(load_dataset("cifar10", "").ok());
}
