#pragma once

// Single-model training: epochs of SGD over a shard, evaluation over a test
// set, and the throughput and timing of each. Time comes from an injected
// clock.

#include <functional>
#include <memory>

#include "murmur/common/clock.hpp"
#include "murmur/nn/batches.hpp"
#include "murmur/nn/loss.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"

namespace murmur::nn {

struct train_options {
  std::int64_t batch = 32;
  std::int64_t eval_batch = 500;
  lr_schedule schedule;
  sgd_options optimizer;
  augment_options augment;
  std::uint64_t seed = 1;
  int threads = 1;
};

struct eval_result {
  double loss = 0, accuracy = 0;  // accuracy in [0, 1]
  std::int64_t samples = 0;
};

struct epoch_result {
  std::int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0, lr = 0;
  double train_seconds = 0, images_per_second = 0;
};

// Evaluation of a model over (the first `limit` samples of) a test set, with
// its own batch buffers. Not thread-safe; one per model.
class evaluator {
 public:
  evaluator(std::int64_t batch, int threads);
  eval_result run(model& m, const dataset& test, mode how = mode::eval, std::int64_t limit = 0);

 private:
  std::int64_t batch_;
  softmax_cross_entropy loss_;
  tensor images_;
  std::vector<std::int32_t> labels_;
  tbb::task_arena arena_;
};

// Called after every step: (step within the epoch, steps per epoch, running mean loss).
using progress_fn = std::function<void(std::int64_t, std::int64_t, double)>;

class trainer {
 public:
  trainer(model& m, const dataset& train, std::vector<std::int64_t> shard, train_options opt,
          const common::clock& clock);

  // Trains one more epoch (epoch number = epochs_done() + 1).
  epoch_result train_epoch(const progress_fn& progress = {});
  // mode::eval in the model's precision, or mode::int8 (after calibrate()).
  eval_result evaluate(const dataset& test, mode m = mode::eval);
  // Records the input ranges of the int8 layers over `batches` training
  // batches of this shard (f32 eval forwards), starting a new calibration round.
  void calibrate(std::int64_t batches);

  sgd& optimizer() { return sgd_; }
  std::int64_t epochs_done() const { return epochs_done_; }
  std::int64_t steps_done() const { return steps_done_; }
  // After loading a checkpoint.
  void set_position(std::int64_t epochs, std::int64_t steps) {
    epochs_done_ = epochs;
    steps_done_ = steps;
  }

 private:
  model& model_;
  const dataset& train_;
  train_options opt_;
  const common::clock& clock_;
  batch_loader loader_;
  sgd sgd_;
  softmax_cross_entropy loss_;
  std::int64_t epochs_done_ = 0, steps_done_ = 0;
  tensor eval_images_;
  std::vector<std::int32_t> eval_labels_;
  tbb::task_arena eval_arena_;
  evaluator evaluator_;
};

}  // namespace murmur::nn
