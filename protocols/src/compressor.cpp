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

compressor::compressor(compressor_options options, std::vector<std::size_t> tensor_sizes)
    : options_(options), tensor_sizes_(std::move(tensor_sizes)) {
  assert(options_.keep > 0 && options_.keep <= 1);
  assert(options_.bits >= 1 && options_.bits <= 7);
}

namespace {

payload quantize(std::span<const float> x, std::span<const std::size_t> tensor_sizes, const compressor_options& o,
                 common::rng& gen) {
  payload p;
  p.encoding = o.kind == compressor_kind::sign ? payload_encoding::sign : payload_encoding::qsgd;
  p.dimension = static_cast<std::uint32_t>(x.size());
  p.bits = o.kind == compressor_kind::qsgd ? o.bits : 0;
  p.codes.resize(x.size());
  const double s = (1u << o.bits) - 1u;
  std::size_t at = 0;
  for (auto size : tensor_sizes) {
    if (size == 0) continue;
    const auto u = x.subspan(at, size);
    p.block_sizes.push_back(static_cast<std::uint32_t>(size));
    if (o.kind == compressor_kind::sign) {
      double l1 = 0;
      for (float v : u) l1 += std::abs(static_cast<double>(v));
      p.scales.push_back(static_cast<float>(l1 / static_cast<double>(size)));
      for (std::size_t k = 0; k < size; ++k) p.codes[at + k] = u[k] < 0 ? -1 : 1;
    } else {
      double l2 = 0;
      for (float v : u) l2 += static_cast<double>(v) * v;
      l2 = std::sqrt(l2);
      const double n = static_cast<double>(size);
      const double shrink = o.contractive ? 1.0 / (1.0 + std::min(n / (s * s), std::sqrt(n) / s)) : 1.0;
      p.scales.push_back(static_cast<float>(l2 * shrink));
      for (std::size_t k = 0; k < size; ++k) {
        const double r = l2 > 0 ? s * std::abs(static_cast<double>(u[k])) / l2 : 0.0;
        double level = std::floor(r);
        if (gen.uniform() < r - level) level += 1;
        level = std::min(level, s);
        p.codes[at + k] = static_cast<std::int8_t>(u[k] < 0 ? -level : level);
      }
    }
    at += size;
  }
  assert(at == x.size());
  return p;
}

}  // namespace

payload compressor::operator()(std::span<const float> x, common::rng& gen) const {
  const auto dim = static_cast<std::uint32_t>(x.size());
  switch (options_.kind) {
    case compressor_kind::none:
      return dense_payload(x);
    case compressor_kind::bf16:
      return dense_payload(x, payload_encoding::dense_bf16);
    case compressor_kind::f16:
      return dense_payload(x, payload_encoding::dense_f16);
    case compressor_kind::top_k: {
      auto c = top_k(x, tensor_sizes_, options_.keep);
      return sparse_payload(dim, std::move(c.indices), std::move(c.values));
    }
    case compressor_kind::random_k: {
      auto c = random_k(x, tensor_sizes_, options_.keep, gen);
      return sparse_payload(dim, std::move(c.indices), std::move(c.values));
    }
    case compressor_kind::sign:
    case compressor_kind::qsgd:
      return quantize(x, tensor_sizes_, options_, gen);
  }
  return {};
}

payload error_feedback::operator()(std::span<const float> x, const compressor& compress, common::rng& gen) {
  assert(x.size() == memory_.size());
  for (std::size_t i = 0; i < x.size(); ++i) memory_[i] += x[i];
  auto c = compress(memory_, gen);
  c.add_to(std::span<float>(memory_), -1.0);
  return c;
}

}  // namespace murmur::protocols
