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

#include "murmur/common/enum_names.hpp"
#include "murmur/common/rng.hpp"
#include "murmur/protocols/payload.hpp"
#include "murmur/protocols/state.hpp"

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

enum class compressor_kind { none, bf16, f16, top_k, random_k, sign, qsgd };
inline constexpr common::enum_name<compressor_kind> compressor_kind_names[] = {
    {compressor_kind::none, "none"},   {compressor_kind::bf16, "bf16"},         {compressor_kind::f16, "f16"},
    {compressor_kind::top_k, "top-k"}, {compressor_kind::random_k, "random-k"}, {compressor_kind::sign, "sign"},
    {compressor_kind::qsgd, "qsgd"}};
constexpr std::span<const common::enum_name<compressor_kind>> names_of(compressor_kind) {
  return compressor_kind_names;
}

struct compressor_options {
  compressor_kind kind = compressor_kind::none;
  double keep = 0.01;       // top-k / random-k: fraction kept per tensor, in (0, 1]
  std::uint32_t bits = 4;   // qsgd: level bits (s = 2^bits - 1 levels), 1 .. 7
  bool contractive = true;  // qsgd: scale by 1 / (1 + min(size/s², √size/s)) (CHOCO's biased form)
};

// The compressor of a run: per tensor of the flat model, the result is a
// payload whose values are exactly what a receiver decodes. Scaled sign is
// (‖u‖₁/size)·sign(u) per tensor with sign(0) = +1 (one bit cannot say 0);
// QSGD rounds s·|u_k|/‖u‖₂ stochastically to a level (randomness from `gen`).
class compressor {
 public:
  compressor(compressor_options options, std::vector<std::size_t> tensor_sizes);
  payload operator()(std::span<const float> x, common::rng& gen) const;
  const compressor_options& options() const { return options_; }
  bool identity() const { return options_.kind == compressor_kind::none; }

 private:
  compressor_options options_;
  std::vector<std::size_t> tensor_sizes_;
};

// Error feedback around any compressor: v = x + e, c = C(v), e <- v - c, so
// what a compressor drops is sent later.
class error_feedback {
 public:
  explicit error_feedback(std::size_t size) : memory_(size, 0.f) {}
  payload operator()(std::span<const float> x, const compressor& compress, common::rng& gen);
  std::span<const float> memory() const { return memory_; }
  void state(state_io& io, const std::string& name) { io.field(name, memory_); }

 private:
  std::vector<float> memory_;
};

}  // namespace murmur::protocols
