// Writes one valid sealed frame of every payload encoding into a directory:
// the decoder fuzzer's seed corpus, so mutations start past the checksum and
// reach every payload validator. Usage: murmur_fuzz_seeds DIR

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/compressor.hpp"

int main(int argc, char** argv) {
  using namespace murmur;
  using namespace murmur::protocols;
  if (argc != 2) {
    std::fprintf(stderr, "usage: murmur_fuzz_seeds DIR\n");
    return 2;
  }
  common::rng gen(1);
  std::vector<float> x(40);
  for (auto& v : x) v = static_cast<float>(gen.uniform() * 2 - 1);
  std::vector<double> wide(x.begin(), x.end());
  const std::vector<std::size_t> blocks{10, 30};
  std::vector<std::pair<std::string, payload>> seeds{
      {"dense-f32", dense_payload(x)},
      {"dense-bf16", dense_payload(x, payload_encoding::dense_bf16)},
      {"dense-f16", dense_payload(x, payload_encoding::dense_f16)},
      {"dense-f64", wide_payload(wide)},
      {"sparse", compressor({.kind = compressor_kind::top_k, .keep = 0.2}, blocks)(x, gen)},
      {"sign", compressor({.kind = compressor_kind::sign}, blocks)(x, gen)},
      {"qsgd", compressor({.kind = compressor_kind::qsgd, .bits = 3}, blocks)(x, gen)},
      {"record", record_payload({{"report", 1}, {"round", 3}, {"test_accuracy", 0.5}}, x)},
  };
  for (const auto& [name, body] : seeds) {
    const auto bytes =
        encode({.header = {.kind = message_kind::model, .sender = 1, .receiver = 2, .round = 3}, .body = body});
    if (!decode(bytes).ok()) {
      std::fprintf(stderr, "murmur_fuzz_seeds: the %s seed does not decode\n", name.c_str());
      return 1;
    }
    std::ofstream(std::string(argv[1]) + "/seed-" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::printf("murmur_fuzz_seeds: %zu frames in %s\n", seeds.size(), argv[1]);
  return 0;
}
