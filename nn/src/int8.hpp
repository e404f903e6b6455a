#pragma once

// int8 inference of a layer with weights (convolution, inner product):
//   src (f32) --quantize--> u8 (inputs never negative) or s8, scale s_in
//   weights (f32 arena) --quantize per output channel--> s8, scales s_w[oc]
//   dst (f32) = int8 primitive with output scales 1 / (s_in s_w[oc]); the
//   bias enters before that scaling, so it is passed as bias * s_in * s_w[oc].
// oneDNN 2.6 fixes a convolution's scales when its primitive is created, so a
// plan belongs to one calibration round: s_in comes from the input range that
// round recorded (or, without calibration, from the first batch it sees) and
// the weights are quantized once, when the plan is built. Calibrate again
// after the weights change. Internal to nn/.

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "dnnl_util.hpp"

namespace murmur::nn::detail {

// The range of a layer's f32 inputs over a calibration round.
struct int8_observer {
  int round = -1;
  float max_abs = 0.f;
  float min = 0.f;
  bool seen = false;

  void record(const tensor& src, int calibration_round);
};

struct int8_plan {
  int round = -2;  // the calibration round it was built for
  tensor dst;      // f32
  tensor quantized_src;
  common::aligned_buffer<std::byte> weights_storage;
  std::vector<float> bias;  // scaled into the accumulator's units
  step quantize_src, quantize_weights, fwd;

  const tensor& forward(compute_context& ctx, const tensor& src);
};

// What follows the int8 primitive inside it: an optional per-channel affine
// map y -> scale * y + shift (an inference batch norm folded in) and an
// optional ReLU post-op.
struct int8_epilogue {
  std::vector<float> scale, shift;  // empty: none. REQUIRES: scale has no zeros
  bool relu = false;
  int variant() const { return (scale.empty() ? 0 : 1) + (relu ? 2 : 0); }
};

// Builds a plan for `src` and the current round. `make_pd(attr, src_type)`
// creates the layer's int8 forward primitive descriptor (s8 weights with
// tag::any, f32 bias and dst) with the given attributes.
template <class FwdPD>
std::unique_ptr<int8_plan> make_int8_plan(compute_context& ctx, const tensor& src, const int8_observer& observed,
                                          const dims& dst_dims, const dnnl::memory::desc& user_weights_md,
                                          std::span<const float> weights, std::span<const float> bias,
                                          const std::function<FwdPD(const dnnl::primitive_attr&, dt)>& make_pd,
                                          const int8_epilogue& epilogue = {});

// What a layer with int8 kernels keeps: its calibrated input range and its
// int8 plans (one per input shape, rebuilt for each calibration round).
struct int8_layer {
  int8_observer observed;
  std::map<std::pair<dims, int>, std::unique_ptr<int8_plan>> plans;  // by input dims and epilogue variant
  const int8_plan* last = nullptr;                                   // the plan of the last forward, if it was int8
  bool unsupported = false;  // no int8 kernel for it on this CPU: it runs in f32

  // Records the input range while the context calibrates (f32 eval forwards).
  void observe(compute_context& ctx, const tensor& src, bool training) {
    last = nullptr;
    if (!training && ctx.calibrating() && src.type() == dtype::f32) observed.record(src, ctx.calibration_round());
  }
  // Runs the plan for src, built by `build()` when missing or of an older
  // round. Returns null, once and for all, when this CPU has no int8 kernel
  // for the layer: the caller then runs it in f32.
  template <class Build>
  const tensor* forward(compute_context& ctx, const tensor& src, Build&& build, int variant = 0) {
    if (unsupported) return nullptr;
    auto& slot = plans[{src.shape(), variant}];
    if (!slot || slot->round != ctx.calibration_round()) {
      try {
        slot = build();
      } catch (const dnnl::error&) {
        unsupported = true;
        plans.clear();
        return nullptr;
      }
    }
    last = slot.get();
    return &slot->forward(ctx, src);
  }
  // Adds the --verbose line of the last int8 forward; false if there was none.
  bool report(const std::string& name, std::vector<std::string>& out) const {
    if (unsupported) out.push_back(name + ": int8 unsupported on this CPU, ran in f32");
    if (!last) return false;
    out.push_back(
        kernel_line(name, last->quantized_src.type(), {{"quantize", &last->quantize_src}, {"fwd", &last->fwd}}));
    return true;
  }
};

// The input's element type and scale for this round.
struct int8_source {
  dtype type;
  float scale;
};
int8_source int8_source_for(const int8_observer& observed, const tensor& src);
// Per output channel: L / max |w| over the channel's weights, L = 127 on
// CPUs with VNNI and 63 without (7-bit weights avoid the 16-bit saturation
// of oneDNN's non-VNNI int8 kernels).
std::vector<float> int8_weight_scales(std::span<const float> weights, std::int64_t out_channels);

template <class FwdPD>
std::unique_ptr<int8_plan> make_int8_plan(compute_context& ctx, const tensor& src, const int8_observer& observed,
                                          const dims& dst_dims, const dnnl::memory::desc& user_weights_md,
                                          std::span<const float> weights, std::span<const float> bias,
                                          const std::function<FwdPD(const dnnl::primitive_attr&, dt)>& make_pd,
                                          const int8_epilogue& epilogue) {
  auto& eng = ctx.engine();
  auto p = std::make_unique<int8_plan>();
  p->round = ctx.calibration_round();
  const auto source = int8_source_for(observed, src);
  const auto out_channels = dst_dims[1];
  const auto w_scales = int8_weight_scales(weights, out_channels);
  std::vector<float> out_scales(out_channels);
  // dst = post_scale (acc / (s_in s_w) + bias) + post_shift
  //     = (post_scale / (s_in s_w)) (acc + (bias + post_shift / post_scale) s_in s_w)
  const bool affine = !epilogue.scale.empty();
  std::vector<float> folded_bias(out_channels, 0.f);
  for (std::int64_t oc = 0; oc < out_channels; ++oc) {
    const float post = affine ? epilogue.scale[oc] : 1.f;
    out_scales[oc] = post / (source.scale * w_scales[oc]);
    const float b = (bias.empty() ? 0.f : bias[oc]) + (affine ? epilogue.shift[oc] / post : 0.f);
    folded_bias[oc] = b * source.scale * w_scales[oc];
  }

  // The int8 computation, its output scales per channel (dim 1 of dst).
  auto attr = ctx.attributes();
  attr.set_output_scales(1 << 1, out_scales);
  if (epilogue.relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  const FwdPD pd = make_pd(attr, to_dnnl(source.type));
  p->dst = tensor(dst_dims, dtype::f32, dst_dims.size() == 4 ? layout::nhwc : layout::row_major);
  p->quantized_src = tensor(src.shape(), source.type, src.memory_layout());

  // Weights: f32 arena -> s8 in the primitive's layout (with the compensation
  // s8 inputs need, which the reorder computes), scaled per output channel.
  p->weights_storage = common::aligned_buffer<std::byte>(pd.weights_desc().get_size());
  dnnl::memory user_weights(user_weights_md, eng, const_cast<float*>(weights.data()));
  dnnl::memory q_weights(pd.weights_desc(), eng, p->weights_storage.data());
  auto wattr = ctx.attributes();
  wattr.set_output_scales(1 << 0, w_scales);
  p->quantize_weights = step(dnnl::reorder::primitive_desc(eng, user_weights_md, eng, pd.weights_desc(), wattr), ctx);
  p->quantize_weights.args[DNNL_ARG_FROM] = user_weights;
  p->quantize_weights.args[DNNL_ARG_TO] = q_weights;
  p->quantize_weights.run(ctx);

  // Source: f32 -> u8/s8 with one scale.
  auto sattr = ctx.attributes();
  sattr.set_output_scales(0, {source.scale});
  const auto f32_src_md = activation_md(src.shape(), dt::f32);
  p->quantize_src = step(dnnl::reorder::primitive_desc(eng, f32_src_md, eng, pd.src_desc(), sattr), ctx);
  p->quantize_src.args[DNNL_ARG_FROM] = dnnl::memory(f32_src_md, eng, nullptr);
  p->quantize_src.args[DNNL_ARG_TO] = dnnl::memory(pd.src_desc(), eng, p->quantized_src.raw());

  p->fwd = step(pd, ctx);
  p->fwd.args[DNNL_ARG_SRC] = p->quantize_src.args[DNNL_ARG_TO];
  p->fwd.args[DNNL_ARG_WEIGHTS] = q_weights;
  p->fwd.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, p->dst.raw());
  if (!bias.empty() || affine) {
    p->bias = std::move(folded_bias);
    p->fwd.args[DNNL_ARG_BIAS] = dnnl::memory(plain_md({out_channels}), eng, p->bias.data());
  }
  return p;
}

}  // namespace murmur::nn::detail
