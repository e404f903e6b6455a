#include "murmur/nn/context.hpp"
#include "murmur/nn/layer.hpp"

#include <omp.h>

#include <array>

namespace murmur::nn {

compute_context::compute_context(int threads)
    : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), threads_(threads < 1 ? 1 : threads) {}

void compute_context::enter() const {
  if (omp_get_max_threads() != threads_) omp_set_num_threads(threads_);
}

dnnl::primitive_attr compute_context::attributes() const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void* compute_context::workspace_data(workspace slot, std::size_t bytes) {
  thread_local std::array<common::aligned_buffer<std::byte>, 3> buffers;
  auto& b = buffers[static_cast<std::size_t>(slot)];
  if (bytes > b.size()) b = common::aligned_buffer<std::byte>(bytes);
  return b.data();
}

}  // namespace murmur::nn

namespace murmur::nn::detail {

std::recursive_mutex& plan_build_lock() {
  static std::recursive_mutex lock;
  return lock;
}

}  // namespace murmur::nn::detail
