#pragma once

// EvoNorm-S0 and Range-EvoNorm (ALGORITHMS.md §6.4), forward and backward,
// in f32 or bf16 (computed in f32). Parameters per channel, PyTorch shape
// (1, C, 1, 1): `weight` (gamma), `bias` (beta), `v`.
//
//   N = X * sigmoid(v X)
//   EvoNorm-S0:    Y = gamma * N / sqrt(Var_{b,g}(X) + eps) + beta
//   Range-EvoNorm: Y = gamma * N * s_{b,g} + beta, s = 1 / (r C(m) + eps),
//     r = mean over K chunks of max(chunk) - mean of min(chunk), each chunk m
//     consecutive values of the sample's group in (C, H, W) order, and
//     C(m) = 0.5 * 0.35 * (1 + sqrt(pi ln 4)) / sqrt(2 ln m).
// No running statistics: the layer is the same in training and evaluation.
//
// When a group's S = (C/G) H W values do not split into K chunks (e.g. 8
// channels of 7x7 with K = 16), the layer uses the largest K' <= K that
// divides S (here 14 chunks of 28) and says so in describe(); the requirement
// m > 1 is checked when the layer is built.
//
// In 8-bit training (precision int8-train) both kinds quantise their input,
// parameters, scale and error as the thesis code's RangeEN does, with a hard
// sigmoid in Range-EvoNorm (evonorm_8bit.hpp); QuantMeasure's running range
// is a buffer, `<name>.input_range`.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

namespace detail {
class evonorm_8bit;
}

enum class evonorm_kind { s0, range };

struct evonorm_options {
  evonorm_kind kind = evonorm_kind::s0;
  std::int64_t channels = 0;
  std::int64_t groups = 8;
  std::int64_t chunks = 16;  // Range-EvoNorm only
  float eps = 1e-5f;
};

// The chunk count Range-EvoNorm uses for groups of `group_size` values: the
// largest divisor of group_size not above `chunks`.
std::int64_t range_chunks(std::int64_t group_size, std::int64_t chunks);

class evonorm final : public layer {
 public:
  evonorm(layer_env env, std::string name, evonorm_options opt);
  ~evonorm() override;

  dims output_dims(const dims& in) const override { return in; }
  MURMUR_LAYER_OVERRIDES

  // 8-bit training's state (null unless the context trains in int8-train).
  const detail::evonorm_8bit* quantized() const { return q8_.get(); }

 private:
  struct plan;
  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  evonorm_options opt_;
  parameter_store::handle weight_, bias_, v_;
  plan_cache<plan> plans_;
  const tensor* src_ = nullptr;
  std::int64_t last_chunks_ = 0;
  std::unique_ptr<detail::evonorm_8bit> q8_;
  parameter_store::handle input_range_ = 0;
  bool q8_forward_ = false;  // the last forward was the 8-bit one
};

}  // namespace murmur::nn
