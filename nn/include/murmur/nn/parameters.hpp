#pragma once

// The parameters of a model live in one contiguous, aligned arena, and their
// gradients in another of the same layout, so a gossip protocol sees a whole
// model as one std::span<float>. Statistics buffers (batch-norm running
// mean/var) live in a third arena that is never gossiped; integer counters
// (num_batches_tracked) beside it.
//
// Use: layers `add_*` their tensors while the model is built, then the model
// calls `finalize()` once; from then on spans are stable for the store's life.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/aligned_buffer.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

struct tensor_entry {
  std::string name;    // PyTorch state_dict name, e.g. "layer1.0.conv1.weight"
  dims shape;          // PyTorch shape (OIHW for conv weights)
  std::size_t offset;  // in floats, from the start of its arena
  std::size_t numel;
};

class parameter_store {
 public:
  using handle = std::size_t;

  handle add_parameter(std::string name, dims shape);
  handle add_buffer(std::string name, dims shape);
  handle add_counter(std::string name);
  void finalize();
  bool finalized() const { return finalized_; }

  // The whole model as flat spans. REQUIRES: finalized().
  std::span<float> parameters() { return params_.span().first(param_floats_); }
  std::span<const float> parameters() const { return params_.span().first(param_floats_); }
  std::span<float> gradients() { return grads_.span().first(param_floats_); }
  std::span<const float> gradients() const { return grads_.span().first(param_floats_); }
  std::span<float> buffers() { return buffers_.span().first(buffer_floats_); }

  std::span<float> parameter(handle h) { return slice(params_, param_entries_[h]); }
  std::span<float> gradient(handle h) { return slice(grads_, param_entries_[h]); }
  std::span<float> buffer(handle h) { return slice(buffers_, buffer_entries_[h]); }
  std::int64_t& counter(handle h) { return counters_[h]; }

  const std::vector<tensor_entry>& parameter_entries() const { return param_entries_; }
  const std::vector<tensor_entry>& buffer_entries() const { return buffer_entries_; }
  const std::vector<std::string>& counter_names() const { return counter_names_; }
  std::span<std::int64_t> counters() { return counters_; }
  std::size_t parameter_count() const { return param_count_; }

 private:
  static std::span<float> slice(common::aligned_buffer<float>& arena, const tensor_entry& e) {
    return {arena.data() + e.offset, e.numel};
  }

  std::vector<tensor_entry> param_entries_, buffer_entries_;
  std::vector<std::string> counter_names_;
  std::vector<std::int64_t> counters_;
  common::aligned_buffer<float> params_, grads_, buffers_;
  std::size_t param_floats_ = 0, buffer_floats_ = 0, param_count_ = 0;
  bool finalized_ = false;
};

}  // namespace murmur::nn
