#include "murmur/nn/dataset.hpp"

#include <zlib.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <memory>

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;
namespace fs = std::filesystem;

// Reads a whole file through zlib, which passes plain files through unchanged.
common::result<std::vector<std::uint8_t>> read_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(errc::not_found, path + ": no such file");
  std::unique_ptr<gzFile_s, decltype(&gzclose)> f(gzopen(path.c_str(), "rb"), &gzclose);
  if (!f) return make_error(errc::io, path + ": cannot open");
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 1 << 16> chunk;
  for (;;) {
    const int n = gzread(f.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f.get(), &code);
      return make_error(errc::corrupt, path + ": cannot decompress (" + std::string(msg ? msg : "?") + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    if (out.size() > (std::size_t{1} << 34)) return make_error(errc::corrupt, path + ": larger than 16 GiB");
  }
  return out;
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void compute_stats(dataset& d) {
  const auto c = d.channels;
  std::vector<double> sum(c, 0.0), sq(c, 0.0);
  const std::size_t n = d.images.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double v = d.images[i] / 255.0;
    sum[i % c] += v;
    sq[i % c] += v * v;
  }
  const double count = static_cast<double>(n / c);
  d.mean.assign(c, 0.f);
  d.stddev.assign(c, 1.f);
  for (std::int64_t k = 0; k < c; ++k) {
    const double m = count > 0 ? sum[k] / count : 0.0;
    const double var = count > 0 ? sq[k] / count - m * m : 1.0;
    d.mean[k] = static_cast<float>(m);
    d.stddev[k] = static_cast<float>(var > 1e-12 ? std::sqrt(var) : 1.0);
  }
}

std::string first_existing(const std::string& dir, const std::string& stem) {
  for (const auto& candidate : {stem + ".gz", stem}) {
    const auto p = (fs::path(dir) / candidate).string();
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
  }
  return (fs::path(dir) / (stem + ".gz")).string();
}

}  // namespace

common::result<dataset> read_idx(const std::string& images_path, const std::string& labels_path, std::int64_t classes) {
  auto images = read_maybe_gzip(images_path);
  if (!images) return images.err();
  auto labels = read_maybe_gzip(labels_path);
  if (!labels) return labels.err();
  const auto& im = *images;
  const auto& lb = *labels;

  // Images: magic 0x00000803 (u8, 3 dims), count, rows, columns.
  if (im.size() < 16 || big_endian_u32(im.data()) != 0x803)
    return make_error(errc::corrupt, images_path + ": not an IDX image file (bad magic number or too short)");
  const std::int64_t count = big_endian_u32(im.data() + 4);
  const std::int64_t rows = big_endian_u32(im.data() + 8), cols = big_endian_u32(im.data() + 12);
  if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096)
    return make_error(errc::corrupt,
                      images_path + ": implausible image size " + std::to_string(rows) + "x" + std::to_string(cols));
  const auto expected = static_cast<std::size_t>(16 + count * rows * cols);
  if (im.size() != expected)
    return make_error(errc::corrupt, images_path + ": header says " + std::to_string(count) + " images of " +
                                         std::to_string(rows) + "x" + std::to_string(cols) + " (" +
                                         std::to_string(expected) + " bytes) but the file has " +
                                         std::to_string(im.size()) + " bytes");

  // Labels: magic 0x00000801 (u8, 1 dim), count.
  if (lb.size() < 8 || big_endian_u32(lb.data()) != 0x801)
    return make_error(errc::corrupt, labels_path + ": not an IDX label file (bad magic number or too short)");
  const std::int64_t label_count = big_endian_u32(lb.data() + 4);
  if (label_count != count)
    return make_error(errc::mismatch, labels_path + ": " + std::to_string(label_count) + " labels for " +
                                          std::to_string(count) + " images in " + images_path);
  if (lb.size() != static_cast<std::size_t>(8 + count))
    return make_error(errc::corrupt, labels_path + ": header says " + std::to_string(count) +
                                         " labels but the file has " + std::to_string(lb.size() - 8));

  dataset d;
  d.channels = 1;
  d.height = rows;
  d.width = cols;
  d.classes = classes;
  d.images.assign(im.begin() + 16, im.end());
  d.labels.resize(count);
  for (std::int64_t i = 0; i < count; ++i) {
    const int y = lb[8 + i];
    if (y >= classes)
      return make_error(errc::corrupt, labels_path + ": label " + std::to_string(y) + " of sample " +
                                           std::to_string(i) + " is not below " + std::to_string(classes));
    d.labels[i] = y;
  }
  compute_stats(d);
  return d;
}

common::result<train_test> load_mnist_like(const std::string& dir, const std::string& name) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(errc::not_found, dir + ": no such directory (data set " + name + ")");
  auto train = read_idx(first_existing(dir, "train-images-idx3-ubyte"), first_existing(dir, "train-labels-idx1-ubyte"));
  if (!train) return train.err();
  auto test = read_idx(first_existing(dir, "t10k-images-idx3-ubyte"), first_existing(dir, "t10k-labels-idx1-ubyte"));
  if (!test) return test.err();
  if (test->height != train->height || test->width != train->width)
    return make_error(errc::mismatch, dir + ": test images differ in size from training images");
  train->name = test->name = name;
  // Normalise both splits with the training statistics.
  test->mean = train->mean;
  test->stddev = train->stddev;
  return train_test{std::move(*train), std::move(*test)};
}

namespace {

common::status append_cifar_file(const std::string& path, dataset& d) {
  constexpr std::size_t record = 1 + 3 * 32 * 32;
  auto bytes = read_maybe_gzip(path);
  if (!bytes) return bytes.err();
  const auto& b = *bytes;
  if (b.empty() || b.size() % record != 0)
    return make_error(errc::corrupt, path + ": size " + std::to_string(b.size()) +
                                         " is not a positive multiple of the CIFAR-10 record (3073 bytes)");
  const std::size_t n = b.size() / record;
  const std::size_t base = d.labels.size();
  d.labels.resize(base + n);
  d.images.resize((base + n) * 3 * 32 * 32);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = b.data() + i * record;
    if (r[0] >= 10)
      return make_error(errc::corrupt, path + ": label " + std::to_string(r[0]) + " of record " + std::to_string(i) +
                                           " is not below 10");
    d.labels[base + i] = r[0];
    // CHW in the file, HWC in memory.
    std::uint8_t* out = d.images.data() + (base + i) * 3072;
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out[p * 3 + c] = r[1 + c * 1024 + p];
  }
  return {};
}

}  // namespace

common::result<train_test> load_cifar10(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(errc::not_found, dir + ": no such directory (CIFAR-10 binary version expected)");
  train_test out;
  for (auto* d : {&out.train, &out.test}) {
    d->name = "cifar10";
    d->channels = 3;
    d->height = d->width = 32;
    d->classes = 10;
  }
  for (int k = 1; k <= 5; ++k) {
    auto s = append_cifar_file((fs::path(dir) / ("data_batch_" + std::to_string(k) + ".bin")).string(), out.train);
    if (!s) return s.err();
  }
  auto s = append_cifar_file((fs::path(dir) / "test_batch.bin").string(), out.test);
  if (!s) return s.err();
  compute_stats(out.train);
  out.test.mean = out.train.mean;
  out.test.stddev = out.train.stddev;
  return out;
}

common::result<train_test> load_dataset(const std::string& name, const std::string& dir) {
  if (name == "fashion-mnist") return load_mnist_like(dir.empty() ? default_fashion_mnist_dir : dir, name);
  if (name == "mnist") {
    if (dir.empty()) return make_error(errc::invalid_argument, "mnist needs a data directory (--data-dir)");
    return load_mnist_like(dir, name);
  }
  if (name == "cifar10") {
    if (dir.empty()) return make_error(errc::invalid_argument, "cifar10 needs a data directory (--data-dir)");
    return load_cifar10(dir);
  }
  return make_error(errc::not_found, "unknown data set '" + name + "' (known: fashion-mnist, mnist, cifar10)");
}

}  // namespace murmur::nn
