#pragma once

// The compute context of one model: its oneDNN CPU engine and stream, its
// thread count, and the working memory its primitives use.
//
// Threading contract: a context (and the model that owns it) is used by one
// thread at a time. Different models may run concurrently on different
// threads: each has its own primitives. Working memory (user-managed
// scratchpads, so oneDNN's library-managed one, unsafe under concurrent
// execution, is never used; weights reordered into a primitive's layout) is
// per thread, not per model: what it holds is written and read within one
// forward or backward call, so every model a thread runs shares it, and a
// process of many agents holds two threads' worth rather than one per agent.

#include <cstddef>
#include <cstdint>

#include <oneapi/dnnl/dnnl.hpp>

#include "murmur/common/aligned_buffer.hpp"

namespace murmur::nn {

class compute_context {
 public:
  explicit compute_context(int threads = 1);

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

  int threads() const { return threads_; }
  // REQUIRES: n >= 1. Takes effect at the next `enter()`.
  void set_threads(int n) { threads_ = n; }
  // Binds this context's thread count to the calling thread's OpenMP pool.
  // Called by the model at the start of every forward and backward.
  void enter() const;

  // Attributes every primitive of this context is created with.
  dnnl::primitive_attr attributes() const;

  // The calling thread's working memory for `slot`, at least `bytes` long.
  // Taken right before each execution (a later call for a larger size may
  // move it). Contents do not outlive the call that wrote them.
  enum class workspace { scratchpad, weights, diff_weights };
  static void* workspace_data(workspace slot, std::size_t bytes);

  // int8 calibration. While calibrating, layers with int8 kernels record the
  // range of their f32 inputs in eval forwards. Each calibration starts a
  // new round: ranges of older rounds are dropped and int8 weights are
  // quantized again at the next int8 forward.
  void begin_calibration() {
    calibrating_ = true;
    ++calibration_round_;
  }
  void end_calibration() { calibrating_ = false; }
  bool calibrating() const { return calibrating_; }
  int calibration_round() const { return calibration_round_; }

  // 8-bit training (precision int8-train): weighted layers built in this
  // context fake-quantise weights, activations and errors.
  void set_quantized_training(bool on) { quantized_training_ = on; }
  bool quantized_training() const { return quantized_training_; }
  // The seed of the stochastic rounding (each layer derives its stream).
  void set_quantization_seed(std::uint64_t s) {
    quantization_seed_ = s;
    ++quantization_epoch_;
  }
  std::uint64_t quantization_seed() const { return quantization_seed_; }
  int quantization_epoch() const { return quantization_epoch_; }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  int threads_;
  bool calibrating_ = false;
  bool quantized_training_ = false;
  std::uint64_t quantization_seed_ = 0;
  int quantization_epoch_ = 0;
  int calibration_round_ = 0;
};

}  // namespace murmur::nn
