// murmur_fake_quant SPEC.json OUT.json: murmur's 8-bit quantiser
// (nn/src/fake_quant.hpp) on the cases of SPEC, for tests/nn/fake_quant_test.py
// to compare with its transcription of the thesis code's UniformQuantize.
// SPEC: {"cases": [{"x": [...], "min": m, "max": M, "bits": b, "noise": [...] (optional)}],
//        "rows": [{"x": [...], "samples": N}]}  (QuantMeasure's range of each row set)
//        "layers": [{"kind": "range-evonorm" | "evonorm" | "range-bn" | "qsum", "shape": [N, C, H, W],
//                    "x": [...], "dy": [...] (NCHW), "params": {"weight": [...], ...}, "groups": g,
//                    "relu": bool (qsum)}]
// OUT:  {"quantized": [[...], ...], "ranges": [[min, max], ...],
//        "layers": [{"y", "dx", "grads": {name: [...]}, "noise": {"input", "error", ...} (NCHW),
//                    "y_eval", "eval_noise", "buffers": {name: [...]}}]}
//  (a layer case runs one training forward and backward, then one eval forward)

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "evonorm_8bit.hpp"
#include "fake_quant.hpp"
#include "murmur/nn/containers.hpp"
#include "murmur/nn/evonorm.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"
#include "nn/layer_harness.hpp"

using nlohmann::json;
using namespace murmur;
using namespace murmur::nn;
using namespace murmur::nn::detail;

namespace {

tensor from_nchw(const dims& d, const std::vector<float>& v) {
  if (static_cast<std::int64_t>(v.size()) != product(d)) throw std::runtime_error("a tensor does not fit its shape");
  tensor t(d, dtype::f32, layout::nhwc);
  std::size_t i = 0;
  for (std::int64_t n = 0; n < d[0]; ++n)
    for (std::int64_t c = 0; c < d[1]; ++c)
      for (std::int64_t h = 0; h < d[2]; ++h)
        for (std::int64_t w = 0; w < d[3]; ++w) t.f32_span()[test::nhwc_at(d, n, c, h, w)] = v[i++];
  return t;
}

std::vector<float> to_nchw(const dims& d, std::span<const float> nhwc) {
  std::vector<float> v;
  for (std::int64_t n = 0; n < d[0]; ++n)
    for (std::int64_t c = 0; c < d[1]; ++c)
      for (std::int64_t h = 0; h < d[2]; ++h)
        for (std::int64_t w = 0; w < d[3]; ++w) v.push_back(nhwc[test::nhwc_at(d, n, c, h, w)]);
  return v;
}

// One training forward and backward of an 8-bit layer, then an eval forward.
json run_layer(const json& c, std::uint64_t seed) {
  const auto d = c.at("shape").get<dims>();
  const std::string kind = c.at("kind");
  test::harness h;
  h.ctx.set_quantized_training(true);
  h.ctx.set_quantization_seed(seed);
  const fake_quant* input_q = nullptr;
  const fake_quant* second_q = nullptr;
  if (kind == "range-evonorm" || kind == "evonorm") {
    auto* l = new evonorm(h.env(), "norm",
                          evonorm_options{.kind = kind == "evonorm" ? evonorm_kind::s0 : evonorm_kind::range,
                                          .channels = d[1],
                                          .groups = c.at("groups").get<std::int64_t>()});
    h.layer.reset(l);
    input_q = &l->quantized()->quantizer();
  } else if (kind == "range-bn") {
    auto* l = new range_batch_norm2d(h.env(), "bn", d[1]);
    h.layer.reset(l);
    input_q = &l->quantizer();
  } else if (kind == "qsum") {
    auto main = std::make_unique<sequential>();
    main->emplace<relu>(h.env(), "block.relu");
    auto* l = new residual_block(h.env(), "block", std::move(main), std::make_unique<sequential>(), c.at("relu"));
    h.layer.reset(l);
    input_q = l->shortcut_quantizer();
    second_q = l->main_quantizer();
  } else {
    throw std::runtime_error("unknown layer kind '" + kind + "'");
  }
  h.ready(seed);
  const auto& entries = h.store.parameter_entries();
  const json params = c.contains("params") ? c.at("params") : json::object();
  for (const auto& [name, values] : params.items()) {
    const auto it = std::ranges::find_if(entries, [&](const auto& e) { return e.name.ends_with("." + name); });
    if (it == entries.end()) throw std::runtime_error("no parameter '" + name + "'");
    const auto v = values.get<std::vector<float>>();
    auto p = h.store.parameter(static_cast<std::size_t>(it - entries.begin()));
    if (v.size() != p.size()) throw std::runtime_error("parameter '" + name + "' has the wrong length");
    std::ranges::copy(v, p.begin());
  }
  const tensor x = from_nchw(d, c.at("x").get<std::vector<float>>());
  const tensor dy = from_nchw(d, c.at("dy").get<std::vector<float>>());
  json out;
  out["y"] = to_nchw(d, h.layer->forward(x, mode::train).f32_span());
  json noise{{"input", to_nchw(d, input_q->input_noise())}};
  if (second_q) noise["input2"] = to_nchw(d, second_q->input_noise());
  out["dx"] = to_nchw(d, h.layer->backward(dy).f32_span());
  noise["error"] = to_nchw(d, (second_q ? second_q : input_q)->error_noise());
  out["noise"] = noise;
  json grads = json::object();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto g = h.store.gradient(i);
    grads[entries[i].name.substr(entries[i].name.rfind('.') + 1)] = std::vector<float>(g.begin(), g.end());
  }
  out["grads"] = grads;
  json buffers = json::object();
  for (std::size_t i = 0; i < h.store.buffer_entries().size(); ++i) {
    const auto b = h.store.buffer(i);
    buffers[h.store.buffer_entries()[i].name] = std::vector<float>(b.begin(), b.end());
  }
  out["buffers"] = buffers;
  out["y_eval"] = to_nchw(d, h.layer->forward(x, mode::eval).f32_span());
  json eval_noise{{"input", to_nchw(d, input_q->input_noise())}};
  if (second_q) eval_noise["input2"] = to_nchw(d, second_q->input_noise());
  out["eval_noise"] = eval_noise;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: murmur_fake_quant SPEC.json OUT.json\n");
    return 2;
  }
  try {
    std::ifstream in(argv[1]);
    const auto spec = json::parse(in);
    json out{{"quantized", json::array()}, {"ranges", json::array()}};
    for (const auto& c : spec.at("cases")) {
      auto x = c.at("x").get<std::vector<float>>();
      const auto noise = c.value("noise", std::vector<float>{});
      if (!noise.empty() && noise.size() != x.size()) throw std::runtime_error("noise and x differ in length");
      uniform_quantize(x, c.at("min").get<double>(), c.at("max").get<double>(), c.at("bits").get<int>(), noise);
      out["quantized"].push_back(x);
    }
    for (const auto& r : spec.value("rows", json::array())) {
      const auto x = r.at("x").get<std::vector<float>>();
      const auto range = mean_row_range(x, r.at("samples").get<std::int64_t>());
      out["ranges"].push_back({range.min, range.max});
    }
    std::uint64_t seed = 1;
    for (const auto& c : spec.value("layers", json::array())) out["layers"].push_back(run_layer(c, seed++));
    std::ofstream(argv[2]) << out.dump();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "murmur_fake_quant: %s\n", e.what());
    return 1;
  }
}
