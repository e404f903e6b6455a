#include "dnnl_util.hpp"

namespace murmur::nn::detail {

dnnl::memory::dims to_dnnl(const dims& d) { return dnnl::memory::dims(d.begin(), d.end()); }

dt to_dnnl(dtype t) {
  switch (t) {
    case dtype::f32:
      return dt::f32;
    case dtype::bf16:
      return dt::bf16;
    case dtype::s8:
      return dt::s8;
    case dtype::u8:
      return dt::u8;
    case dtype::s32:
      return dt::s32;
    case dtype::s64:
    case dtype::f64:
      return dt::undef;
  }
  return dt::undef;
}

namespace {

// A plain layout by rank: `four` for 4-D, `two` for 2-D, x for 1-D.
dnnl::memory::desc ranked_md(const dims& d, dt type, tag four, tag two) {
  const tag t = d.size() == 4 ? four : d.size() == 2 ? two : d.size() == 1 ? tag::x : tag::undef;
  return {to_dnnl(d), type, t};
}

}  // namespace

dnnl::memory::desc activation_md(const dims& d, dt type) { return ranked_md(d, type, tag::nhwc, tag::nc); }

dnnl::memory::desc plain_md(const dims& d, dt type) { return ranked_md(d, type, tag::oihw, tag::oi); }

std::string kernel_line(const std::string& name, dtype type,
                        std::initializer_list<std::pair<const char*, const step*>> steps) {
  std::string line = name + ": " + to_string(type);
  for (const auto& [label, s] : steps)
    if (s && s->valid()) line += std::string(" ") + label + "=" + s->impl;
  return line;
}

void step::add_scratchpad(const dnnl::memory::desc& desc, compute_context& ctx) {
  if (desc.get_size() == 0) return;
  scratchpad_bytes_ = desc.get_size();
  args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(desc, ctx.engine(), nullptr);
}

void step::run(compute_context& ctx) {
  if (scratchpad_bytes_ > 0)
    args[DNNL_ARG_SCRATCHPAD].set_data_handle(
        compute_context::workspace_data(compute_context::workspace::scratchpad, scratchpad_bytes_));
  prim.execute(ctx.stream(), args);
}

conversion::conversion(dnnl::memory f, dnnl::memory t, compute_context& ctx) : from(std::move(f)), to(std::move(t)) {
  needed = from.get_desc() != to.get_desc();
  if (needed) {
    auto attr = ctx.attributes();
    dnnl::reorder::primitive_desc pd(ctx.engine(), from.get_desc(), ctx.engine(), to.get_desc(), attr);
    reorder = step(pd, ctx);
    reorder.args[DNNL_ARG_FROM] = from;
    reorder.args[DNNL_ARG_TO] = to;
  }
}

void conversion::run(compute_context& ctx) {
  if (needed) reorder.run(ctx);
}

layout_memory memory_like(const dnnl::memory::desc& want, const dnnl::memory& user, compute_context& ctx,
                          compute_context::workspace slot) {
  if (want == user.get_desc()) return {.mem = user};
  return {.mem = dnnl::memory(want, ctx.engine(), compute_context::workspace_data(slot, want.get_size())),
          .in_workspace = true,
          .slot = slot};
}

void point_at_workspace(layout_memory& m) {
  if (m.in_workspace) m.mem.set_data_handle(compute_context::workspace_data(m.slot, m.mem.get_desc().get_size()));
}

}  // namespace murmur::nn::detail
