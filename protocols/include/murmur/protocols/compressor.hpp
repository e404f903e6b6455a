#pragma once

// Sparsifying compressors over a flat model, applied per tensor (layer-wise,
// ALGORITHMS.md §0.6, §4): top-k keeps the k entries of largest magnitude of
// each tensor, random-k k uniformly drawn ones, with
// k = max(1, floor(size * keep)) per tensor. The result is a sparse vector
// (sorted indices into the flat model, values) that the codec sends as a
// sparse frame of exactly `sparse_frame_bytes(k_total)` bytes.
//
// Error feedback (a wrapper): the part a compressor drops is kept in a memory
// e and added to the next input, so everything is sent eventually:
// v = x + e, c = C(v), e <- v - c.

#include <cstdint>
#include <span>
#include <vector>

#include "murmur/common/rng.hpp"

namespace murmur::protocols {

struct sparse_vector {
  std::vector<std::uint32_t> indices;  // strictly increasing
  std::vector<float> values;
};

// keep: fraction of each tensor to keep, in (0, 1]. `tensor_sizes` partition
// the flat vector (their sum is its length).
sparse_vector top_k(std::span<const float> x, std::span<const std::size_t> tensor_sizes, double keep);
sparse_vector random_k(std::span<const float> x, std::span<const std::size_t> tensor_sizes, double keep,
                       common::rng& gen);

class error_feedback {
 public:
  explicit error_feedback(std::size_t size) : memory_(size, 0.f) {}
  // Compresses x + memory with `compress` and keeps what it dropped.
  template <class Compress>
  sparse_vector operator()(std::span<const float> x, Compress&& compress) {
    std::vector<float> v(x.begin(), x.end());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] += memory_[i];
    sparse_vector c = compress(std::span<const float>(v));
    memory_ = v;
    for (std::size_t k = 0; k < c.indices.size(); ++k) memory_[c.indices[k]] -= c.values[k];
    return c;
  }
  std::span<const float> memory() const { return memory_; }

 private:
  std::vector<float> memory_;
};

}  // namespace murmur::protocols
