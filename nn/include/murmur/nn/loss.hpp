#pragma once

// Softmax cross-entropy over logits [N, K] with integer labels, mean over the
// batch (PyTorch's CrossEntropyLoss). Computed in double for the log-sum-exp.

#include <cstdint>
#include <span>
#include <vector>

#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

struct loss_result {
  double loss;           // mean over the batch
  std::int64_t correct;  // samples whose arg-max logit is the label
};

class softmax_cross_entropy {
 public:
  // REQUIRES: logits is [N, K]; labels.size() == N; every label < K.
  // Fills diff_logits() with d loss / d logits when `want_gradient`.
  loss_result compute(const tensor& logits, std::span<const std::int32_t> labels, bool want_gradient = true);
  const tensor& diff_logits() const { return diff_; }

 private:
  tensor diff_;
};

// CCL's feature terms (ALGORITHMS.md §6.3, as the code has them: mean squared
// errors against detached targets): λ_m Σ_j MSE(f, f_j) + λ_d MSE(f, p_y),
// with f the batch's features [N, h], f_j the features of the same batch
// under neighbour j's model, and p_y the prototype of each sample's class
// ([classes, h]; a class with a zero prototype row is skipped).
// Returns the loss; writes d loss / d f into `diff` (size N h).
double feature_matching_loss(std::span<const float> f, std::int64_t n, std::int64_t h,
                             const std::vector<std::span<const float>>& neighbour_features, double lambda_model,
                             std::span<const float> prototypes, std::span<const std::int32_t> labels,
                             double lambda_data, std::span<float> diff);

// Per-class sums of features [classes, h] and counts [classes] over a batch.
void class_feature_sums(std::span<const float> f, std::int64_t n, std::int64_t h, std::span<const std::int32_t> labels,
                        std::int64_t classes, std::span<float> sums, std::span<float> counts);

}  // namespace murmur::nn
