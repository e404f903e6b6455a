#include "murmur/nn/loss.hpp"

#include <algorithm>
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

namespace murmur::nn {

double feature_matching_loss(std::span<const float> f, std::int64_t n, std::int64_t h,
                             const std::vector<std::span<const float>>& neighbour_features, double lambda_model,
                             std::span<const float> prototypes, std::span<const std::int32_t> labels,
                             double lambda_data, std::span<float> diff) {
  const auto size = static_cast<std::size_t>(n * h);
  std::fill(diff.begin(), diff.end(), 0.f);
  double loss = 0;
  const double scale = 1.0 / static_cast<double>(size);  // MSE: mean over every element
  for (const auto& g : neighbour_features) {
    double sq = 0;
    for (std::size_t k = 0; k < size; ++k) {
      const double e = static_cast<double>(f[k]) - g[k];
      sq += e * e;
      diff[k] += static_cast<float>(lambda_model * 2 * e * scale);
    }
    loss += lambda_model * sq * scale;
  }
  if (lambda_data > 0 && !prototypes.empty()) {
    double sq = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto p = prototypes.subspan(static_cast<std::size_t>(labels[i] * h), static_cast<std::size_t>(h));
      if (std::ranges::all_of(p, [](float v) { return v == 0.f; })) continue;
      for (std::int64_t k = 0; k < h; ++k) {
        const auto at = static_cast<std::size_t>(i * h + k);
        const double e = static_cast<double>(f[at]) - p[static_cast<std::size_t>(k)];
        sq += e * e;
        diff[at] += static_cast<float>(lambda_data * 2 * e * scale);
      }
    }
    loss += lambda_data * sq * scale;
  }
  return loss;
}

void class_feature_sums(std::span<const float> f, std::int64_t n, std::int64_t h, std::span<const std::int32_t> labels,
                        std::int64_t classes, std::span<float> sums, std::span<float> counts) {
  std::fill(sums.begin(), sums.end(), 0.f);
  std::fill(counts.begin(), counts.end(), 0.f);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto c = labels[i];
    if (c < 0 || c >= classes) continue;
    counts[static_cast<std::size_t>(c)] += 1.f;
    for (std::int64_t k = 0; k < h; ++k)
      sums[static_cast<std::size_t>(c * h + k)] += f[static_cast<std::size_t>(i * h + k)];
  }
}

}  // namespace murmur::nn
