#include "murmur/nn/context.hpp"

#include <omp.h>

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

void compute_context::reserve_scratchpad(std::size_t bytes) {
  if (bytes > scratchpad_.size()) scratchpad_ = common::aligned_buffer<std::byte>(bytes);
}

}  // namespace murmur::nn
