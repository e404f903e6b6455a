#pragma once

// EvoNorm-S0 and Range-EvoNorm in 8-bit training (precision int8-train).
//
// Range-EvoNorm is the thesis code's RangeEN (aparna-aketi/Low_Precision_DL,
// quantized_training/quantize.py), the norm of all its quantised models:
//   x_q = QuantMeasure(x)                    (stochastic, batch-mean range; fake_quant.hpp)
//   N   = x_q * clamp(x_q v_q / 6 + 0.5, 0, 1)   (a hard sigmoid where the f32 layer has a sigmoid)
//   s   = 1 / (r C(m) + eps), r from the chunks of x_q (evonorm.hpp), s_q = Q(s) over all (sample, group)
//   y   = (N s_q) gamma_q + beta_q,  v_q, gamma_q, beta_q = Q(.) on their own range (nearest)
// and its error is quantised (stochastic, on the error's own range) before
// anything else in backward (the code's quantize_grad on the output). Every
// quantiser passes its gradient straight through; the gradient reaching s is
// carried on through 1/(r C + eps) at the unquantised s, as autograd does.
//
// EvoNorm-S0 has no 8-bit version in the code; murmur quantises it at the
// same points (x_q, v_q, s_q, gamma_q, beta_q, the error) and keeps its
// sigmoid and its group standard deviation: murmur's construction, so that
// the thesis's comparison of the two norms has both sides in 8 bits.
// Internal to nn/.

#include <cstdint>
#include <span>
#include <vector>

#include "fake_quant.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn::detail {

class evonorm_8bit {
 public:
  evonorm_8bit(bool range, std::int64_t groups, std::int64_t chunks, float eps)
      : range_(range), groups_(groups), chunks_(chunks), eps_(eps) {}

  // `input_range` is QuantMeasure's running {min, max} (the layer's buffer).
  const tensor& forward(const tensor& src, bool training, std::span<float> input_range, std::span<const float> gamma,
                        std::span<const float> beta, std::span<const float> v);
  // After a training forward: the input's gradient; writes the parameters'.
  const tensor& backward(const tensor& diff_dst, std::span<float> d_gamma, std::span<float> d_beta,
                         std::span<float> d_v);

  fake_quant& quantizer() { return quant_; }
  const fake_quant& quantizer() const { return quant_; }
  std::int64_t chunks_used() const { return used_chunks_; }

 private:
  bool range_;
  std::int64_t groups_, chunks_;
  float eps_;
  fake_quant quant_;
  const tensor* xq_ = nullptr;
  tensor dst_, diff_src_;
  std::vector<float> gamma_q_, beta_q_, v_q_;
  std::vector<float> scale_, scale_q_, mean_;  // per (sample, group): s, Q(s); S0's mean
  std::vector<std::int64_t> arg_max_, arg_min_;
  std::int64_t used_chunks_ = 0;
};

}  // namespace murmur::nn::detail
