#pragma once

// The layer interface. A layer owns its output and its input-gradient
// tensors and the oneDNN primitives that compute them, one set per input
// shape and mode (a "plan"): created the first time a shape is seen, reused
// on every later step. Training with batch B, a smaller last batch, and
// evaluation with another batch size each get their own plan.
//
// Lifetimes: the tensor returned by forward()/backward() stays valid, and
// keeps its address, until the next call with the same shape and mode.
// A layer keeps a pointer to its forward input for backward: the caller keeps
// that input alive and unchanged between the two calls.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "murmur/common/rng.hpp"
#include "murmur/nn/context.hpp"
#include "murmur/nn/parameters.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

enum class mode { train, eval };

// What a layer needs while it is built: where its parameters go and the
// context its primitives run in.
struct layer_env {
  parameter_store& store;
  compute_context& ctx;
};

class layer {
 public:
  virtual ~layer() = default;

  // The output dims for input dims (N first). Used while a model is built.
  virtual dims output_dims(const dims& in) const = 0;
  virtual const tensor& forward(const tensor& src, mode m) = 0;
  // REQUIRES: the last forward() ran in mode::train; diff_dst has its output's
  // shape. Overwrites (does not accumulate) this layer's parameter gradients.
  virtual const tensor& backward(const tensor& diff_dst) = 0;
  // Sets parameters as PyTorch's default initialisation does.
  virtual void init(common::rng&) {}
  // One line for a model summary.
  virtual std::string describe() const = 0;
};

// Plans of a layer, keyed by input dims and mode.
template <class Plan>
class plan_cache {
 public:
  // Returns the plan for (in, m), building it with `make()` the first time.
  template <class Make>
  Plan& get(const dims& in, mode m, Make&& make) {
    auto key = std::make_pair(in, m);
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(std::move(key), make()).first;
    current_ = it->second.get();
    return *current_;
  }
  // The plan of the last forward. REQUIRES: a forward ran.
  Plan& current() { return *current_; }
  bool has_current() const { return current_ != nullptr; }

 private:
  std::map<std::pair<dims, mode>, std::unique_ptr<Plan>> plans_;
  Plan* current_ = nullptr;
};

}  // namespace murmur::nn
