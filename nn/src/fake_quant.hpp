#pragma once

// 8-bit training as the thesis's code does it (aparna-aketi/Low_Precision_DL,
// quantized_training/quantize.py, after Banner et al. 2018, "Scalable methods
// for 8-bit training of neural networks"), fake-quantised: values are rounded
// to 2^bits levels between a min and a max and kept in f32, because oneDNN
// 2.6 has no int8 backward kernels. For a convolution or an inner product
// (the code's QConv2d / QLinear with biprecision = True):
//   forward:  y = W_q * x_q + b_q, with x_q from the mean over the batch of
//             each sample's min and max (QuantMeasure; eval uses its running
//             range), W_q and b_q from the tensor's own min and max;
//             x_q is rounded stochastically: QuantMeasure calls
//             quantize(..., num_chunks=16), which lands in UniformQuantize's
//             `stochastic` argument (a positional slip in the code that its
//             runs have), W_q and b_q to the nearest level;
//   backward: dW, db from the full-precision error dy and x_q; dx from an
//             8-bit error Q_s(dy) (stochastic rounding between dy's min and
//             max) and W_q. Quantisers pass gradients straight through.
// Internal to nn/.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "murmur/common/rng.hpp"
#include "murmur/nn/context.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn::detail {

// UniformQuantize.forward with enforce_true_zero = false, in place:
//   scale = max((max - min) / (2^bits - 1), 1e-8),
//   q = round(clamp((x - min) / scale [+ noise], 0, 2^bits - 1)),  x = q scale + min,
// in f32 with torch's order of operations and round-half-to-even. `noise`
// (stochastic rounding: uniform in [-0.5, 0.5)) is empty or one per value.
void uniform_quantize(std::span<float> x, double min, double max, int bits, std::span<const float> noise = {});

// QuantMeasure's training range: the mean over the `samples` rows of x of
// each row's min and of its max.
struct value_range {
  double min = 0, max = 0;
};
value_range mean_row_range(std::span<const float> x, std::int64_t samples);
value_range full_range(std::span<const float> x);
// quantize(t, min_value=float(t.min()), max_value=float(t.max())): 8 bits,
// nearest, on the values' own range (weights, biases, norm scales), in place.
void quantize_on_own_range(std::span<float> x);
// The same on a copy.
std::vector<float> quantized_on_own_range(std::span<const float> x);

// The quantisation state of one layer (weighted layers, the 8-bit norms, the
// residual add's two inputs).
class fake_quant {
 public:
  static constexpr int bits = 8;           // NUM_BITS = NUM_BITS_WEIGHT = NUM_BITS_GRAD in the code
  static constexpr double momentum = 0.1;  // QuantMeasure's

  // x_q of `src` (kept for backward). `running` is QuantMeasure's running
  // {min, max} (a buffer of the layer, so checkpoints keep it): training
  // updates it, eval quantises with it; a range never trained (both 0: a
  // model that only evaluates, such as the monitor's averaged one, whose
  // buffers are not gossiped) quantises with the batch's own range instead.
  const tensor& quantize_input(const tensor& src, bool training, std::span<float> running);
  // Replaces the weights (and bias) in place by W_q (b_q), keeping the
  // full-precision values until restore().
  void quantize_weights(std::span<float> weights, std::span<float> bias);
  void restore_weights(std::span<float> weights, std::span<float> bias);
  bool weights_quantized() const { return quantized_; }
  // Q_s(dy): the 8-bit error for the input gradient.
  const tensor& quantize_error(const tensor& diff_dst);

  // Seeds the stochastic rounding's stream from the context's seed and the
  // layer's name, once per model initialisation (each layer its own stream).
  void reseed(const compute_context& ctx, std::string_view name);
  void seed(std::uint64_t s) { gen_ = common::rng(s); }
  // The rounding noise of the last quantize_input and quantize_error (tests).
  std::span<const float> input_noise() const { return input_noise_; }
  std::span<const float> error_noise() const { return error_noise_; }

 private:
  tensor input_, error_;
  std::vector<float> weights_, bias_, input_noise_, error_noise_;
  bool quantized_ = false;
  int seeded_for_ = -1;
  common::rng gen_{0x8b17};
};

}  // namespace murmur::nn::detail
