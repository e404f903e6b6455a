#pragma once

// Image classification data sets in memory: images as u8, one sample after
// the other, each in HWC order (so a batch is assembled into NHWC with a
// straight copy), and labels as integers.
//
// Readers: IDX files (MNIST / Fashion-MNIST, gzip-compressed or plain) and the
// CIFAR-10 binary format. Every size, magic number and label is validated; a
// bad file gives an error naming the file and the problem.

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"

namespace murmur::nn {

struct dataset {
  std::string name;
  std::int64_t channels = 0, height = 0, width = 0, classes = 0;
  std::vector<std::uint8_t> images;  // size() * channels * height * width
  std::vector<std::int32_t> labels;
  std::vector<float> mean, stddev;  // per channel, for normalisation to zero mean, unit variance

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t sample_bytes() const { return channels * height * width; }
};

struct train_test {
  dataset train, test;
};

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

// Reads an IDX image file and its label file.
common::result<dataset> read_idx(const std::string& images_path, const std::string& labels_path,
                                 std::int64_t classes = 10);
// Fashion-MNIST (or MNIST) from a folder with the four standard files
// (train-images-idx3-ubyte[.gz] and so on).
common::result<train_test> load_mnist_like(const std::string& dir, const std::string& name);
// CIFAR-10 from a folder with data_batch_1..5.bin and test_batch.bin.
common::result<train_test> load_cifar10(const std::string& dir);
// By name: "fashion-mnist", "mnist" or "cifar10"; `dir` empty = the default.
common::result<train_test> load_dataset(const std::string& name, const std::string& dir);

}  // namespace murmur::nn
