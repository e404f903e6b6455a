#include "int8.hpp"

#include <algorithm>
#include <cmath>

#include <oneapi/dnnl/dnnl.hpp>

namespace murmur::nn::detail {
namespace {

// Without VNNI, oneDNN's int8 kernels multiply u8 x s8 pairs with
// vpmaddubsw, whose 16-bit sum of two products saturates above 32767
// (255 * 127 * 2 does not fit). oneDNN's documented remedy is 7-bit weights:
// with |w| <= 63 the pair sum stays in range. CPUs with VNNI accumulate in
// 32 bits and keep the full 8 bits.
float weight_levels() {
  static const float levels = [] {
    const auto isa = dnnl::get_effective_cpu_isa();
    const bool vnni = isa == dnnl::cpu_isa::avx512_core_vnni || isa == dnnl::cpu_isa::avx512_core_bf16 ||
                      isa == dnnl::cpu_isa::avx512_core_amx || isa == dnnl::cpu_isa::avx2_vnni;
    return vnni ? 127.f : 63.f;
  }();
  return levels;
}

}  // namespace

void int8_observer::record(const tensor& src, int calibration_round) {
  if (round != calibration_round) *this = int8_observer{.round = calibration_round};
  float mx = max_abs, mn = seen ? min : INFINITY;
  for (float v : src.f32_span()) {
    mx = std::max(mx, std::abs(v));
    mn = std::min(mn, v);
  }
  max_abs = mx;
  min = mn;
  seen = true;
}

int8_source int8_source_for(const int8_observer& observed, const tensor& src) {
  float max_abs = 0.f, min = 0.f;
  if (observed.seen) {
    max_abs = observed.max_abs;
    min = observed.min;
  } else {
    for (float v : src.f32_span()) {
      max_abs = std::max(max_abs, std::abs(v));
      min = std::min(min, v);
    }
  }
  const bool non_negative = min >= 0.f;
  const float levels = non_negative ? 255.f : 127.f;
  return {non_negative ? dtype::u8 : dtype::s8, max_abs > 0.f ? levels / max_abs : 1.f};
}

std::vector<float> int8_weight_scales(std::span<const float> weights, std::int64_t out_channels) {
  std::vector<float> scales(out_channels);
  const auto per_channel = weights.size() / static_cast<std::size_t>(out_channels);
  for (std::int64_t oc = 0; oc < out_channels; ++oc) {
    float m = 0.f;
    for (std::size_t i = 0; i < per_channel; ++i) m = std::max(m, std::abs(weights[oc * per_channel + i]));
    scales[oc] = m > 0.f ? weight_levels() / m : 1.f;
  }
  return scales;
}

const tensor& int8_plan::forward(compute_context& ctx, const tensor& src) {
  quantize_src.bind(DNNL_ARG_FROM, src.raw());
  quantize_src.run(ctx);
  fwd.run(ctx);
  return dst;
}

}  // namespace murmur::nn::detail
