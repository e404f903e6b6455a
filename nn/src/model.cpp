#include "murmur/nn/model.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "elementwise.hpp"

namespace murmur::nn {

const char* to_string(norm_kind n) { return common::name_of(n).data(); }

common::result<norm_kind> parse_norm(const std::string& name) {
  if (auto n = common::from_name<norm_kind>(name)) return *n;
  return common::make_error(common::errc::invalid_argument, "unknown norm '" + name + "' (known: " +
                                                                common::join(common::names_list<norm_kind>()) + ")");
}

const char* to_string(precision p) { return common::name_of(p).data(); }

common::result<precision> parse_precision(const std::string& name) {
  if (auto p = common::from_name<precision>(name)) return *p;
  return common::make_error(common::errc::invalid_argument, "unknown precision '" + name + "' (known: " +
                                                                common::join(common::names_list<precision>()) + ")");
}

bf16_support cpu_bf16_support() {
  const auto isa = dnnl::get_effective_cpu_isa();
  if (isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx) return bf16_support::native;
  if (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni) return bf16_support::emulated;
  return bf16_support::none;
}

model::model(model_spec spec, int threads) : spec_(std::move(spec)), ctx_(threads) {
  ctx_.set_quantized_training(spec_.precision == precision::int8_train);
}

namespace {

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The thesis code's initialisation of its 8-bit ResNet
// (aparna-aketi/Low_Precision_DL, quantized_training/resnet_quantized.py,
// init_modelq): conv weights N(0, sqrt(2 / (k·k·out_channels))), every
// norm's γ = 1 and β = 0 but the last norm of each basic block (bn2), whose
// γ is 0, so each block starts as its shortcut; fc weights N(0, 0.01), bias 0.
void init_modelq(parameter_store& store, common::rng& gen) {
  const auto& entries = store.parameter_entries();
  for (std::size_t h = 0; h < entries.size(); ++h) {
    const auto& name = entries[h].name;
    const auto& shape = entries[h].shape;
    auto w = store.parameter(h);
    const auto fill_normal = [&](double sd) {
      for (auto& x : w) x = static_cast<float>(sd * gen.normal());
    };
    if (name == "fc.weight") {
      fill_normal(0.01);
    } else if (name == "fc.bias") {
      std::ranges::fill(w, 0.f);
    } else if (ends_with(name, "conv1.weight") || ends_with(name, "conv2.weight") ||
               ends_with(name, "downsample.0.weight")) {  // OIHW
      fill_normal(std::sqrt(2.0 / static_cast<double>(shape[0] * shape[2] * shape[3])));
    } else if (ends_with(name, ".bn2.weight")) {
      std::ranges::fill(w, 0.f);
    } else if (ends_with(name, ".weight")) {  // the other norms' γ
      std::ranges::fill(w, 1.f);
    } else if (ends_with(name, ".bias")) {  // the norms' β
      std::ranges::fill(w, 0.f);
    }
  }
}

}  // namespace

void model::init(std::uint64_t seed) {
  common::rng gen(seed);
  net_.init(gen);
  // 8-bit ResNet-20 is the thesis code's quantised ResNet, with its init.
  if (spec_.precision == precision::int8_train && spec_.name == "resnet20") init_modelq(store_, gen);
  ctx_.set_quantization_seed(seed);
}

tensor& model::staged(std::map<dims, tensor>& pool, const dims& d, dtype t, layout l) {
  auto it = pool.find(d);
  if (it == pool.end()) it = pool.emplace(d, tensor(d, t, l)).first;
  return it->second;
}

const tensor& model::forward(const tensor& input, mode m) {
  ctx_.enter();
  if (spec_.precision != precision::bf16) return net_.forward(input, m);
  // bf16: the batch comes in as f32 and the loss wants f32 logits.
  tensor& in = staged(inputs_, input.shape(), dtype::bf16, input.memory_layout());
  detail::convert(input, in);
  const tensor& logits = net_.forward(in, m);
  tensor& out = staged(outputs_, logits.shape(), dtype::f32, logits.memory_layout());
  detail::convert(logits, out);
  return out;
}

void model::backward(const tensor& diff_logits) {
  ctx_.enter();
  if (spec_.precision != precision::bf16) {
    net_.backward(diff_logits);
    return;
  }
  tensor& diff = staged(diffs_, diff_logits.shape(), dtype::bf16, diff_logits.memory_layout());
  detail::convert(diff_logits, diff);
  net_.backward(diff);
}

common::status model::backward(const tensor& diff_logits, std::span<const float> diff_features) {
  if (spec_.precision == precision::bf16)
    return common::make_error(common::errc::unsupported, "a feature loss term needs an f32 model");
  if (diff_features.size() != static_cast<std::size_t>(features().numel()))
    return common::make_error(common::errc::mismatch, "feature gradient of the wrong size");
  ctx_.enter();
  net_.backward(diff_logits, diff_features);
  return {};
}

std::vector<std::string> model::kernel_report() const {
  std::vector<std::string> lines;
  net_.report(lines);
  return lines;
}

std::string model::summary() const {
  return spec_.name + " (" + std::to_string(store_.parameter_count()) + " parameters)\n" + net_.describe();
}

}  // namespace murmur::nn
