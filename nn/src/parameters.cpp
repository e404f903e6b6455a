#include "murmur/nn/parameters.hpp"

#include <cassert>

namespace murmur::nn {
namespace {

// Every tensor starts on a 64-byte boundary of its arena.
constexpr std::size_t floats_per_line = 16;

std::size_t round_up(std::size_t n) { return (n + floats_per_line - 1) / floats_per_line * floats_per_line; }

}  // namespace

parameter_store::handle parameter_store::add_parameter(std::string name, dims shape) {
  assert(!finalized_);
  const auto n = static_cast<std::size_t>(product(shape));
  param_entries_.push_back({std::move(name), std::move(shape), param_floats_, n});
  param_floats_ += round_up(n);
  param_count_ += n;
  return param_entries_.size() - 1;
}

parameter_store::handle parameter_store::add_buffer(std::string name, dims shape) {
  assert(!finalized_);
  const auto n = static_cast<std::size_t>(product(shape));
  buffer_entries_.push_back({std::move(name), std::move(shape), buffer_floats_, n});
  buffer_floats_ += round_up(n);
  return buffer_entries_.size() - 1;
}

parameter_store::handle parameter_store::add_counter(std::string name) {
  assert(!finalized_);
  counter_names_.push_back(std::move(name));
  counters_.push_back(0);
  return counters_.size() - 1;
}

void parameter_store::finalize() {
  assert(!finalized_);
  params_ = common::aligned_buffer<float>(param_floats_);
  grads_ = common::aligned_buffer<float>(param_floats_);
  buffers_ = common::aligned_buffer<float>(buffer_floats_);
  finalized_ = true;
}

}  // namespace murmur::nn
