#pragma once

// Softmax cross-entropy over logits [N, K] with integer labels, mean over the
// batch (PyTorch's CrossEntropyLoss). Computed in double for the log-sum-exp.

#include <cstdint>
#include <span>

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

}  // namespace murmur::nn
