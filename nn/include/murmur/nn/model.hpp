#pragma once

// A model: its layers, its parameter arenas and its compute context. A model
// is used by one thread at a time; models on different threads are
// independent (own primitives, own scratchpad, own thread count).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "murmur/common/enum_names.hpp"
#include "murmur/common/result.hpp"
#include "murmur/nn/containers.hpp"
#include "murmur/nn/context.hpp"
#include "murmur/nn/parameters.hpp"

namespace murmur::nn {

enum class norm_kind { batchnorm, groupnorm, evonorm, range_evonorm };
inline constexpr common::enum_name<norm_kind> norm_kind_names[] = {{norm_kind::batchnorm, "batchnorm"},
                                                                   {norm_kind::groupnorm, "groupnorm"},
                                                                   {norm_kind::evonorm, "evonorm"},
                                                                   {norm_kind::range_evonorm, "range-evonorm"}};
constexpr std::span<const common::enum_name<norm_kind>> names_of(norm_kind) { return norm_kind_names; }

// The element type of training: activations, weight copies and compute. Master
// weights, weight gradients and optimizer state are f32 in all. int8-train:
// f32 tensors, with the weights, activations and errors of convolutions and
// inner products fake-quantised to 8 bits as the thesis's code does
// (nn/src/fake_quant.hpp).
enum class precision { f32, bf16, int8_train };
inline constexpr common::enum_name<precision> precision_names[] = {
    {precision::f32, "f32"}, {precision::bf16, "bf16"}, {precision::int8_train, "int8-train"}};
constexpr std::span<const common::enum_name<precision>> names_of(precision) { return precision_names; }

struct model_spec {
  std::string name;  // logreg | mlp | lenet5 | resnet20 | vgg11
  dims input;        // {C, H, W} of one sample
  std::int64_t classes = 10;
  norm_kind norm = norm_kind::batchnorm;
  std::int64_t groups = 0;   // of groupnorm (default 2) or (range-)evonorm (default 8); 0 = default
  std::int64_t chunks = 16;  // of range-evonorm
  nn::precision precision = precision::f32;
};

// The model names `build_model` knows.
const std::vector<std::string>& model_names();
common::result<norm_kind> parse_norm(const std::string& name);
const char* to_string(norm_kind n);
common::result<precision> parse_precision(const std::string& name);
const char* to_string(precision p);

// Whether this CPU runs oneDNN's bf16 kernels: natively (AVX-512 BF16 or
// AMX), emulated on AVX-512, or not at all.
enum class bf16_support { native, emulated, none };
bf16_support cpu_bf16_support();

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
  // The penultimate features of the last forward (the input of the final
  // classifier): [N, h] in f32 models. REQUIRES: a forward ran.
  const tensor& features() const { return net_.last_input(); }
  // backward, with `diff_features` (one value per element of features())
  // added to the gradient that reaches the features. f32 models only.
  common::status backward(const tensor& diff_logits, std::span<const float> diff_features);
  std::string summary() const;
  // Per layer: the element type it ran in and oneDNN's kernels (after a step).
  std::vector<std::string> kernel_report() const;
  // Things the user should know (e.g. a precision fallback), one line each.
  const std::vector<std::string>& warnings() const { return warnings_; }
  void add_warning(std::string w) { warnings_.push_back(std::move(w)); }

 private:
  // The model's input and output in its precision, and the f32 logits.
  tensor& staged(std::map<dims, tensor>& pool, const dims& d, dtype t, layout l);

  model_spec spec_;
  parameter_store store_;
  compute_context ctx_;
  sequential net_;
  std::map<dims, tensor> inputs_, outputs_, diffs_;
  std::vector<std::string> warnings_;
};

// Builds a model for a data set's sample shape and class count.
common::result<std::unique_ptr<model>> build_model(const model_spec& spec, int threads = 1);

}  // namespace murmur::nn
