#include "murmur/nn/model.hpp"

namespace murmur::nn {

const char* to_string(norm_kind n) { return n == norm_kind::batchnorm ? "batchnorm" : "groupnorm"; }

common::result<norm_kind> parse_norm(const std::string& name) {
  if (name == "batchnorm") return norm_kind::batchnorm;
  if (name == "groupnorm") return norm_kind::groupnorm;
  return common::make_error(common::errc::invalid_argument,
                            "unknown norm '" + name + "' (known: batchnorm, groupnorm)");
}

model::model(model_spec spec, int threads) : spec_(std::move(spec)), ctx_(threads) {}

void model::init(std::uint64_t seed) {
  common::rng gen(seed);
  net_.init(gen);
}

const tensor& model::forward(const tensor& input, mode m) {
  ctx_.enter();
  return net_.forward(input, m);
}

void model::backward(const tensor& diff_logits) {
  ctx_.enter();
  net_.backward(diff_logits);
}

std::string model::summary() const {
  return spec_.name + " (" + std::to_string(store_.parameter_count()) + " parameters)\n" + net_.describe();
}

}  // namespace murmur::nn
