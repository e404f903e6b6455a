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
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "murmur/common/rng.hpp"
#include "murmur/nn/context.hpp"
#include "murmur/nn/parameters.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

// train: batch statistics, keeps what backward needs. eval: inference in the
// model's precision. int8: inference with int8 convolutions and inner
// products (quantized on the fly from calibrated ranges), f32 elsewhere.
enum class mode { train, eval, int8 };

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
  // Appends one line per layer that computes: its name, the element type it
  // last ran in and the kernels that ran it (for --verbose).
  virtual void report(std::vector<std::string>&) const {}
};

namespace detail {
// Held while a plan is built. oneDNN's primitive cache is shared by every
// agent of the process and guarded by a lock inside libdnnl, which Debian
// builds without ThreadSanitizer; two agents building plans on two worker
// threads at once touch the same cached primitive and descriptor memory, and
// TSan, blind to that lock, reports a race (scripts/tsan.sh failed on it one
// run in eight). Serialising plan construction makes the order visible to it
// and costs nothing once the plans exist: each is built once per layer, shape
// and mode. Recursive because a container's plan may build its children's.
std::recursive_mutex& plan_build_lock();
}  // namespace detail

// Plans of a layer, keyed by input dims, mode and element type.
template <class Plan>
class plan_cache {
 public:
  // Returns the plan for (src's dims and type, m), building it with `make()` the first time.
  template <class Make>
  Plan& get(const tensor& src, mode m, Make&& make) {
    auto key = std::make_tuple(src.shape(), m, src.type());
    auto it = plans_.find(key);
    if (it == plans_.end()) {
      std::lock_guard<std::recursive_mutex> hold(detail::plan_build_lock());
      it = plans_.emplace(std::move(key), make()).first;
    }
    current_ = it->second.get();
    current_type_ = src.type();
    return *current_;
  }
  // The plan of the last forward. REQUIRES: a forward ran.
  Plan& current() { return *current_; }
  const Plan* current_or_null() const { return current_; }
  // The element type of the input the last forward saw.
  dtype current_type() const { return current_type_; }
  bool has_current() const { return current_ != nullptr; }

 private:
  std::map<std::tuple<dims, mode, dtype>, std::unique_ptr<Plan>> plans_;
  Plan* current_ = nullptr;
  dtype current_type_ = dtype::f32;
};

// The overrides of a layer that has parameters and a report (forward,
// backward, init, describe, report), declared in one place for the layers
// that implement all five; each defines them in its .cpp.
#define MURMUR_LAYER_OVERRIDES                               \
  const tensor& forward(const tensor& src, mode m) override; \
  const tensor& backward(const tensor& diff_dst) override;   \
  void init(common::rng& gen) override;                      \
  std::string describe() const override;                     \
  void report(std::vector<std::string>& out) const override;

}  // namespace murmur::nn
