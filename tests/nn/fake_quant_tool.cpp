// murmur_fake_quant SPEC.json OUT.json: murmur's 8-bit quantiser
// (nn/src/fake_quant.hpp) on the cases of SPEC, for tests/nn/fake_quant_test.py
// to compare with its transcription of the thesis code's UniformQuantize.
// SPEC: {"cases": [{"x": [...], "min": m, "max": M, "bits": b, "noise": [...] (optional)}],
//        "rows": [{"x": [...], "samples": N}]}  (QuantMeasure's range of each row set)
// OUT:  {"quantized": [[...], ...], "ranges": [[min, max], ...]}

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fake_quant.hpp"

using nlohmann::json;
using namespace murmur::nn::detail;

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
    std::ofstream(argv[2]) << out.dump();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "murmur_fake_quant: %s\n", e.what());
    return 1;
  }
}
