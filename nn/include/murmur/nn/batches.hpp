#pragma once

// Turns a data set shard into normalised NHWC f32 batches. Each epoch visits
// the shard in a new seeded order; optional augmentation (random crop with
// zero padding, horizontal flip) draws from a generator derived from
// (seed, epoch, sample), so a batch is the same whatever thread assembles it.
// Assembly runs on oneTBB inside an arena capped at the trainer's thread
// count, so it never oversubscribes the cores oneDNN uses.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <tbb/task_arena.h>

#include "murmur/nn/dataset.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

struct augment_options {
  std::int64_t crop_padding = 0;  // 0 = no random crop
  bool horizontal_flip = false;
};

// Writes samples `indices` of `data` into `images` ([n, C, H, W], NHWC) and
// `labels`, normalised, with the given augmentation. REQUIRES: shapes match.
void assemble_batch(const dataset& data, std::span<const std::int64_t> indices, tensor& images,
                    std::span<std::int32_t> labels, const augment_options& aug, std::uint64_t seed,
                    tbb::task_arena& arena);

class batch_loader {
 public:
  batch_loader(const dataset& data, std::vector<std::int64_t> indices, std::int64_t batch, augment_options aug,
               std::uint64_t seed, int threads, bool drop_last = false);

  // Starts epoch `epoch`: reshuffles the order.
  void start_epoch(std::int64_t epoch);
  // The next batch of this epoch, or false at its end. The tensors returned
  // stay valid until the next call.
  bool next(const tensor*& images, std::span<const std::int32_t>& labels);
  std::int64_t batches_per_epoch() const;
  std::int64_t samples() const { return static_cast<std::int64_t>(indices_.size()); }
  const std::vector<std::int64_t>& shard() const { return indices_; }

 private:
  tensor& images_for(std::int64_t n);

  const dataset& data_;
  std::vector<std::int64_t> indices_, order_;
  std::int64_t batch_;
  augment_options aug_;
  std::uint64_t seed_;
  bool drop_last_;
  std::int64_t epoch_ = 0, cursor_ = 0;
  tbb::task_arena arena_;
  tensor full_, last_;
  std::vector<std::int32_t> labels_;
};

}  // namespace murmur::nn
