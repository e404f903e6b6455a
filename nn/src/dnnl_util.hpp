#pragma once

// Small helpers shared by the layers that run oneDNN primitives. Internal to nn/.

#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "murmur/nn/context.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn::detail {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::memory::dims to_dnnl(const dims& d);
dt to_dnnl(dtype t);

// The memory descriptor of an activation tensor of dims `d` (NHWC for 4-D,
// NC for 2-D, X for 1-D).
dnnl::memory::desc activation_md(const dims& d, dt type = dt::f32);
// The memory descriptor of a weight in PyTorch layout (OIHW / OI / X).
dnnl::memory::desc plain_md(const dims& d, dt type = dt::f32);

// One primitive with its arguments, bound once at plan time. Before each
// execution the caller re-points the handles that may move (inputs from the
// previous layer) with `bind`; the scratchpad is re-pointed here.
struct step {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  std::string impl;  // oneDNN's name of the kernel it chose

  step() = default;
  // `pd` is the primitive's descriptor; adds a scratchpad argument if needed.
  template <class PD>
  step(const PD& pd, compute_context& ctx) : prim(pd.get()), impl(pd.impl_info_str()) {
    add_scratchpad(pd.scratchpad_desc(), ctx);
  }

  void bind(int arg, const void* data) { args.at(arg).set_data_handle(const_cast<void*>(data)); }
  void run(compute_context& ctx);
  bool valid() const { return static_cast<bool>(prim); }

 private:
  void add_scratchpad(const dnnl::memory::desc& desc, compute_context& ctx);
  std::size_t scratchpad_bytes_ = 0;
};

// "name: <type> label=<kernel> ..." for --verbose.
std::string kernel_line(const std::string& name, dtype type,
                        std::initializer_list<std::pair<const char*, const step*>> steps);

// A reorder between two memories, or nothing when their layouts match.
struct conversion {
  dnnl::memory from, to;
  step reorder;
  bool needed = false;

  conversion() = default;
  conversion(dnnl::memory from, dnnl::memory to, compute_context& ctx);
  void run(compute_context& ctx);
};

// A memory with the layout `want`: `user` itself when the layouts match, else
// one over the thread's working memory `slot`, re-pointed before each use
// (point_at_workspace; copies of a dnnl::memory share its handle, so the
// steps holding it follow).
struct layout_memory {
  dnnl::memory mem;
  bool in_workspace = false;
  compute_context::workspace slot{};
};
layout_memory memory_like(const dnnl::memory::desc& want, const dnnl::memory& user, compute_context& ctx,
                          compute_context::workspace slot);
void point_at_workspace(layout_memory& m);

}  // namespace murmur::nn::detail

namespace murmur::nn::detail {

// The primitives of a layer with weights (convolution, inner product): a
// forward, a backward-data and a backward-weights step, plus the reorders
// between the arena's PyTorch layout and the layouts the primitives chose.
struct weighted_plan {
  tensor dst, diff_src;
  // The weights in each primitive's layout, over the thread's working memory
  // unless that layout is the arena's (the reorders write them right before use).
  layout_memory fwd_weights, bwd_weights_in, diff_weights;
  conversion weights_to_fwd, weights_to_bwd, diff_weights_to_user;
  step fwd, bwd_data, bwd_weights;

  // Binds the forward step. REQUIRES: dst allocated. `bias` may be empty.
  template <class FwdPD>
  void bind_forward(compute_context& ctx, const FwdPD& pd, const dnnl::memory& user_weights, const dnnl::memory& bias) {
    auto& eng = ctx.engine();
    fwd_weights = memory_like(pd.weights_desc(), user_weights, ctx, compute_context::workspace::weights);
    weights_to_fwd = conversion(user_weights, fwd_weights.mem, ctx);
    fwd = step(pd, ctx);
    fwd.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, nullptr);
    fwd.args[DNNL_ARG_WEIGHTS] = fwd_weights.mem;
    fwd.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, dst.raw());
    if (bias) fwd.args[DNNL_ARG_BIAS] = bias;
  }

  // Binds the backward steps. REQUIRES: diff_src allocated. `diff_bias` may be empty.
  template <class DataPD, class WeightsPD>
  void bind_backward(compute_context& ctx, const DataPD& data_pd, const WeightsPD& weights_pd,
                     const dnnl::memory& user_weights, const dnnl::memory& user_diff_weights,
                     const dnnl::memory& diff_bias) {
    auto& eng = ctx.engine();
    // Backward data: diff_src from diff_dst and the weights (in this primitive's layout).
    bwd_weights_in = memory_like(data_pd.weights_desc(), user_weights, ctx, compute_context::workspace::weights);
    weights_to_bwd = conversion(user_weights, bwd_weights_in.mem, ctx);
    bwd_data = step(data_pd, ctx);
    bwd_data.args[DNNL_ARG_DIFF_DST] = dnnl::memory(data_pd.diff_dst_desc(), eng, nullptr);
    bwd_data.args[DNNL_ARG_WEIGHTS] = bwd_weights_in.mem;
    bwd_data.args[DNNL_ARG_DIFF_SRC] = dnnl::memory(data_pd.diff_src_desc(), eng, diff_src.raw());
    // Backward weights: diff_weights (and diff_bias) from src and diff_dst, then into the arena.
    diff_weights =
        memory_like(weights_pd.diff_weights_desc(), user_diff_weights, ctx, compute_context::workspace::diff_weights);
    diff_weights_to_user = conversion(diff_weights.mem, user_diff_weights, ctx);
    bwd_weights = step(weights_pd, ctx);
    bwd_weights.args[DNNL_ARG_SRC] = dnnl::memory(weights_pd.src_desc(), eng, nullptr);
    bwd_weights.args[DNNL_ARG_DIFF_DST] = dnnl::memory(weights_pd.diff_dst_desc(), eng, nullptr);
    bwd_weights.args[DNNL_ARG_DIFF_WEIGHTS] = diff_weights.mem;
    if (diff_bias) bwd_weights.args[DNNL_ARG_DIFF_BIAS] = diff_bias;
  }

  const tensor& forward(compute_context& ctx, const tensor& src) {
    point_at_workspace(fwd_weights);
    weights_to_fwd.run(ctx);
    fwd.bind(DNNL_ARG_SRC, src.raw());
    fwd.run(ctx);
    return dst;
  }

  // diff_src from `error_for_data`, the weight (and bias) gradients from
  // `error_for_weights` (the same tensor except in 8-bit training).
  const tensor& backward(compute_context& ctx, const tensor& src, const tensor& error_for_data,
                         const tensor& error_for_weights) {
    point_at_workspace(bwd_weights_in);
    point_at_workspace(diff_weights);
    weights_to_bwd.run(ctx);
    bwd_data.bind(DNNL_ARG_DIFF_DST, error_for_data.raw());
    bwd_data.run(ctx);
    bwd_weights.bind(DNNL_ARG_SRC, src.raw());
    bwd_weights.bind(DNNL_ARG_DIFF_DST, error_for_weights.raw());
    bwd_weights.run(ctx);
    diff_weights_to_user.run(ctx);
    return diff_src;
  }
};

}  // namespace murmur::nn::detail
