#include "murmur/protocols/compressor.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace murmur::protocols {
namespace {

std::size_t kept(std::size_t size, double keep) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(static_cast<double>(size) * keep)));
}

// Appends the chosen positions of one tensor (offsets relative to it), sorted.
void append(sparse_vector& out, std::span<const float> x, std::size_t offset, std::vector<std::size_t>& chosen) {
  std::ranges::sort(chosen);
  for (auto i : chosen) {
    out.indices.push_back(static_cast<std::uint32_t>(offset + i));
    out.values.push_back(x[offset + i]);
  }
}

// Runs `choose(offset, size, k, order)` for each tensor: it leaves in the
// first k places of `order` (0 .. size-1 on entry) the positions to keep.
template <class Choose>
sparse_vector per_tensor(std::span<const float> x, std::span<const std::size_t> tensor_sizes, double keep,
                         Choose&& choose) {
  assert(keep > 0 && keep <= 1);
  sparse_vector out;
  std::size_t offset = 0;
  std::vector<std::size_t> order;
  for (auto size : tensor_sizes) {
    if (size == 0) continue;
    const auto k = std::min(size, kept(size, keep));
    order.resize(size);
    std::iota(order.begin(), order.end(), std::size_t{0});
    choose(offset, size, k, order);
    order.resize(k);
    append(out, x, offset, order);
    offset += size;
  }
  assert(offset == x.size());
  return out;
}

}  // namespace

sparse_vector top_k(std::span<const float> x, std::span<const std::size_t> tensor_sizes, double keep) {
  return per_tensor(x, tensor_sizes, keep, [&](std::size_t offset, std::size_t, std::size_t k, auto& order) {
    // Largest magnitudes first; ties broken by position so the result is deterministic.
    std::ranges::nth_element(order, order.begin() + static_cast<std::ptrdiff_t>(k - 1), [&](auto a, auto b) {
      const float ma = std::abs(x[offset + a]), mb = std::abs(x[offset + b]);
      return ma != mb ? ma > mb : a < b;
    });
  });
}

sparse_vector random_k(std::span<const float> x, std::span<const std::size_t> tensor_sizes, double keep,
                       common::rng& gen) {
  return per_tensor(x, tensor_sizes, keep, [&](std::size_t, std::size_t size, std::size_t k, auto& order) {
    for (std::size_t i = 0; i < k; ++i) std::swap(order[i], order[i + gen.uniform_int(size - i)]);
  });
}

}  // namespace murmur::protocols
