// libFuzzer target for the wire decoder: any bytes must give either a whole,
// valid frame or an error, never a crash, a sanitizer report or a frame that
// breaks the decoder's own promises. Built with clang by scripts/fuzz.sh.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "murmur/protocols/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace murmur::protocols;
  const auto bytes = std::span(reinterpret_cast<const std::byte*>(data), size);
  auto f = decode(bytes, {.max_dimension = 1u << 20});
  if (!f.ok()) return 0;
  // What decode promises about a frame it accepts.
  const auto& h = f->header;
  if (!std::isfinite(h.push_sum_weight)) std::abort();
  for (float v : f->values)
    if (!std::isfinite(v)) std::abort();
  if (h.encoding == payload_encoding::sparse_f32) {
    if (f->indices.size() != f->values.size()) std::abort();
    for (std::size_t i = 0; i < f->indices.size(); ++i)
      if (f->indices[i] >= h.dimension || (i > 0 && f->indices[i] <= f->indices[i - 1])) std::abort();
  } else if (f->values.size() != h.dimension) {
    std::abort();
  }
  return 0;
}
