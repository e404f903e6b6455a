// The model zoo: MLP, LeNet-5, ResNet-20 and VGG-11 (CIFAR-style), built for
// any sample shape and class count, with PyTorch state_dict names.

#include <algorithm>

#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/evonorm.hpp"
#include "murmur/nn/linear.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;

// EvoNorm layers carry their own non-linearity: no ReLU follows them.
bool norm_has_activation(const model& m) {
  return m.spec().norm == norm_kind::evonorm || m.spec().norm == norm_kind::range_evonorm;
}

// relu: the norm is followed by a ReLU, fused into it where the norm can (batch norm).
std::unique_ptr<layer> make_norm(model& m, const std::string& name, std::int64_t channels, bool relu = false) {
  const auto& spec = m.spec();
  switch (spec.norm) {
    case norm_kind::groupnorm:
      return std::make_unique<group_norm>(m.env(), name, std::min(spec.groups ? spec.groups : 2, channels), channels);
    case norm_kind::evonorm:
    case norm_kind::range_evonorm:
      return std::make_unique<evonorm>(
          m.env(), name,
          evonorm_options{.kind = spec.norm == norm_kind::evonorm ? evonorm_kind::s0 : evonorm_kind::range,
                          .channels = channels,
                          .groups = std::min(spec.groups ? spec.groups : 8, channels),
                          .chunks = spec.chunks});
    case norm_kind::batchnorm:
      break;
  }
  // 8-bit training: the thesis code's Range BatchNorm (its ReLU a layer of its own).
  if (m.env().ctx.quantized_training()) return std::make_unique<range_batch_norm2d>(m.env(), name, channels);
  return std::make_unique<batch_norm2d>(m.env(), name, channels, relu);
}

// Whether a ReLU after the norm is fused into it (oneDNN's batch norm).
bool fuses_relu(model& m) { return m.spec().norm == norm_kind::batchnorm && !m.env().ctx.quantized_training(); }

// A norm and, unless the norm is an EvoNorm, a ReLU after it (fused into a
// batch norm, a layer of its own after a group norm or a range batch norm).
void add_norm_act(model& m, sequential& seq, const std::string& norm_name, const std::string& relu_name,
                  std::int64_t channels) {
  const bool fused = fuses_relu(m);
  seq.add(make_norm(m, norm_name, channels, fused));
  if (!norm_has_activation(m) && !fused) seq.emplace<relu>(m.env(), relu_name);
}

// Tracks the running dims while layers are appended, so each layer is sized
// from its input.
struct builder {
  model& m;
  sequential& seq;
  dims d;

  template <class L, class... Args>
  L& add(Args&&... args) {
    auto& l = seq.emplace<L>(std::forward<Args>(args)...);
    d = l.output_dims(d);
    return l;
  }
  void add(std::unique_ptr<layer> l) {
    d = l->output_dims(d);
    seq.add(std::move(l));
  }
};

void build_mlp(model& m, builder& b) {
  const std::int64_t hidden = 256;
  b.add<flatten>("flatten");
  b.add<linear>(m.env(), "fc1", product(b.d) / b.d[0], hidden);
  b.add<relu>(m.env(), "relu1");
  b.add<linear>(m.env(), "fc2", hidden, hidden);
  b.add<relu>(m.env(), "relu2");
  b.add<linear>(m.env(), "fc3", hidden, m.spec().classes);
}

// Multinomial logistic regression: one linear layer on the flattened input
// (the smallest model, for runs of many agents).
void build_logreg(model& m, builder& b) {
  b.add<flatten>("flatten");
  b.add<linear>(m.env(), "fc", product(b.d) / b.d[0], m.spec().classes);
}

void build_lenet5(model& m, builder& b) {
  const auto c = b.d[1];
  b.add<conv2d>(m.env(), "conv1", conv2d_options{.in_channels = c, .out_channels = 6, .kernel = 5, .padding = 2});
  b.add<relu>(m.env(), "relu1");
  b.add<pool2d>(m.env(), "pool1", pool2d_options{.kind = pool_kind::max, .kernel = 2, .stride = 2});
  b.add<conv2d>(m.env(), "conv2", conv2d_options{.in_channels = 6, .out_channels = 16, .kernel = 5});
  b.add<relu>(m.env(), "relu2");
  b.add<pool2d>(m.env(), "pool2", pool2d_options{.kind = pool_kind::max, .kernel = 2, .stride = 2});
  b.add<flatten>("flatten");
  b.add<linear>(m.env(), "fc1", product(b.d) / b.d[0], 120);
  b.add<relu>(m.env(), "relu3");
  b.add<linear>(m.env(), "fc2", 120, 84);
  b.add<relu>(m.env(), "relu4");
  b.add<linear>(m.env(), "fc3", 84, m.spec().classes);
}

std::unique_ptr<layer> basic_block(model& m, const std::string& name, std::int64_t in, std::int64_t out,
                                   std::int64_t stride) {
  auto main = std::make_unique<sequential>();
  main->emplace<conv2d>(
      m.env(), name + ".conv1",
      conv2d_options{
          .in_channels = in, .out_channels = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false});
  add_norm_act(m, *main, name + ".bn1", name + ".relu1", out);
  main->emplace<conv2d>(
      m.env(), name + ".conv2",
      conv2d_options{.in_channels = out, .out_channels = out, .kernel = 3, .padding = 1, .bias = false});
  main->add(make_norm(m, name + ".bn2", out));
  auto shortcut = std::make_unique<sequential>();
  if (stride != 1 || in != out) {
    shortcut->emplace<conv2d>(
        m.env(), name + ".downsample.0",
        conv2d_options{.in_channels = in, .out_channels = out, .kernel = 1, .stride = stride, .bias = false});
    shortcut->add(make_norm(m, name + ".downsample.1", out));
  }
  return std::make_unique<residual_block>(m.env(), name, std::move(main), std::move(shortcut), !norm_has_activation(m));
}

void build_resnet20(model& m, builder& b) {
  const auto c = b.d[1];
  b.add<conv2d>(m.env(), "conv1",
                conv2d_options{.in_channels = c, .out_channels = 16, .kernel = 3, .padding = 1, .bias = false});
  add_norm_act(m, b.seq, "bn1", "relu", 16);
  std::int64_t in = 16;
  const std::int64_t widths[] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    for (int block = 0; block < 3; ++block) {
      const std::int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      const auto name = "layer" + std::to_string(stage + 1) + "." + std::to_string(block);
      b.add(basic_block(m, name, in, widths[stage], stride));
      in = widths[stage];
    }
  }
  b.add<pool2d>(m.env(), "avgpool",
                pool2d_options{.kind = pool_kind::average, .kernel = 0, .stride = 0, .global = true});
  b.add<flatten>("flatten");
  b.add<linear>(m.env(), "fc", 64, m.spec().classes);
}

void build_vgg11(model& m, builder& b) {
  // "M" = 2x2 max pool, skipped once the plane is 1x1 (e.g. on 28x28 inputs).
  const std::int64_t cfg[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
  std::int64_t in = b.d[1];
  int index = 0;
  for (auto v : cfg) {
    const auto name = "features." + std::to_string(index);
    if (v == 0) {
      if (b.d[2] >= 2 && b.d[3] >= 2)
        b.add<pool2d>(m.env(), name, pool2d_options{.kind = pool_kind::max, .kernel = 2, .stride = 2});
      index += 1;
      continue;
    }
    b.add<conv2d>(m.env(), name, conv2d_options{.in_channels = in, .out_channels = v, .kernel = 3, .padding = 1});
    add_norm_act(m, b.seq, "features." + std::to_string(index + 1), "features." + std::to_string(index + 2), v);
    index += 3;
    in = v;
  }
  b.add<pool2d>(m.env(), "avgpool",
                pool2d_options{.kind = pool_kind::average, .kernel = 0, .stride = 0, .global = true});
  b.add<flatten>("flatten");
  b.add<linear>(m.env(), "classifier", 512, m.spec().classes);
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"logreg", "mlp", "lenet5", "resnet20", "vgg11"};
  return names;
}

common::result<std::unique_ptr<model>> build_model(const model_spec& spec, int threads) {
  if (spec.input.size() != 3 || spec.input[0] < 1 || spec.input[1] < 1 || spec.input[2] < 1)
    return make_error(errc::invalid_argument, "model input must be {C, H, W}, got " + to_string(spec.input));
  if (spec.classes < 2) return make_error(errc::invalid_argument, "a model needs at least 2 classes");
  const auto h = spec.input[1], w = spec.input[2];
  auto m = std::make_unique<model>(spec, threads);
  if (spec.precision == precision::bf16 && cpu_bf16_support() == bf16_support::none) {
    // oneDNN 2.6 has no bf16 kernels below AVX-512: train in f32 instead.
    auto f32_spec = spec;
    f32_spec.precision = precision::f32;
    m = std::make_unique<model>(f32_spec, threads);
    m->add_warning("this CPU has no AVX-512, so oneDNN has no bf16 kernels: training in f32 instead");
  }
  builder b{*m, m->net(), {1, spec.input[0], h, w}};
  if (spec.name == "logreg") {
    build_logreg(*m, b);
  } else if (spec.name == "mlp") {
    build_mlp(*m, b);
  } else if (spec.name == "lenet5") {
    if (h < 12 || w < 12) return make_error(errc::invalid_argument, "lenet5 needs inputs of at least 12x12");
    build_lenet5(*m, b);
  } else if (spec.name == "resnet20") {
    if (h < 4 || w < 4) return make_error(errc::invalid_argument, "resnet20 needs inputs of at least 4x4");
    build_resnet20(*m, b);
  } else if (spec.name == "vgg11") {
    build_vgg11(*m, b);
  } else {
    std::string known;
    for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    return make_error(errc::not_found, "unknown model '" + spec.name + "' (known: " + known + ")");
  }
  m->store().finalize();
  return m;
}

}  // namespace murmur::nn
