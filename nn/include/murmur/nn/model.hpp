#pragma once

// A model: its layers, its parameter arenas and its compute context. A model
// is used by one thread at a time; models on different threads are
// independent (own primitives, own scratchpad, own thread count).

#include <memory>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/nn/containers.hpp"
#include "murmur/nn/context.hpp"
#include "murmur/nn/parameters.hpp"

namespace murmur::nn {

enum class norm_kind { batchnorm, groupnorm };

struct model_spec {
  std::string name;  // mlp | lenet5 | resnet20 | vgg11
  dims input;        // {C, H, W} of one sample
  std::int64_t classes = 10;
  norm_kind norm = norm_kind::batchnorm;
  std::int64_t groups = 2;  // for groupnorm
};

// The model names `build_model` knows.
const std::vector<std::string>& model_names();
common::result<norm_kind> parse_norm(const std::string& name);
const char* to_string(norm_kind n);

class model {
 public:
  model(model_spec spec, int threads);
  model(const model&) = delete;
  model& operator=(const model&) = delete;

  const model_spec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  parameter_store& store() { return store_; }
  compute_context& context() { return ctx_; }
  sequential& net() { return net_; }
  layer_env env() { return {store_, ctx_}; }

  std::span<float> parameters() { return store_.parameters(); }
  std::span<float> gradients() { return store_.gradients(); }

  // Seeded PyTorch-style initialisation of every layer.
  void init(std::uint64_t seed);
  // input: [N, C, H, W] NHWC. Returns logits [N, classes].
  const tensor& forward(const tensor& input, mode m);
  // Overwrites the gradient arena. REQUIRES: the last forward was mode::train.
  void backward(const tensor& diff_logits);
  std::string summary() const;

 private:
  model_spec spec_;
  parameter_store store_;
  compute_context ctx_;
  sequential net_;
};

// Builds a model for a data set's sample shape and class count.
common::result<std::unique_ptr<model>> build_model(const model_spec& spec, int threads = 1);

}  // namespace murmur::nn
