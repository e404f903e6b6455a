#include "murmur/nn/loss.hpp"

#include <cassert>
#include <cmath>

namespace murmur::nn {

loss_result softmax_cross_entropy::compute(const tensor& logits, std::span<const std::int32_t> labels,
                                           bool want_gradient) {
  assert(logits.rank() == 2 && static_cast<std::size_t>(logits.dim(0)) == labels.size());
  const std::int64_t n = logits.dim(0), k = logits.dim(1);
  if (want_gradient && diff_.shape() != logits.shape()) diff_ = tensor(logits.shape());
  const float* z = logits.f32();
  float* d = want_gradient ? diff_.f32() : nullptr;
  double total = 0;
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* zi = z + i * k;
    std::int64_t arg = 0;
    for (std::int64_t j = 1; j < k; ++j)
      if (zi[j] > zi[arg]) arg = j;
    const double max = zi[arg];
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += std::exp(zi[j] - max);
    const std::int32_t y = labels[i];
    assert(y >= 0 && y < k);
    total += std::log(sum) + max - zi[y];
    correct += arg == y;
    if (d) {
      for (std::int64_t j = 0; j < k; ++j) {
        const double p = std::exp(zi[j] - max) / sum;
        d[i * k + j] = static_cast<float>((p - (j == y ? 1.0 : 0.0)) / static_cast<double>(n));
      }
    }
  }
  return {total / static_cast<double>(n), correct};
}

}  // namespace murmur::nn
