// libFuzzer target for the wire decoder: any bytes must give either a whole,
// valid frame or an error, never a crash, a sanitizer report or a frame that
// breaks the decoder's own promises. Built with clang by scripts/fuzz.sh.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "murmur/protocols/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace murmur::protocols;
  const auto bytes = std::span(reinterpret_cast<const std::byte*>(data), size);
  auto f = decode(bytes, {.max_dimension = 1u << 20});
  if (!f.ok()) return 0;
  // What decode promises about a frame it accepts.
  const auto& p = f->body;
  if (!std::isfinite(f->header.push_sum_weight)) std::abort();
  for (float v : p.values)
    if (!std::isfinite(v)) std::abort();
  for (double v : p.wide)
    if (!std::isfinite(v)) std::abort();
  switch (p.encoding) {
    case payload_encoding::sparse_f32:
      if (p.indices.size() != p.values.size()) std::abort();
      for (std::size_t i = 0; i < p.indices.size(); ++i)
        if (p.indices[i] >= p.dimension || (i > 0 && p.indices[i] <= p.indices[i - 1])) std::abort();
      break;
    case payload_encoding::dense_f64:
      if (p.wide.size() != p.dimension) std::abort();
      break;
    case payload_encoding::record:
      if (p.values.size() != p.dimension) std::abort();
      for (const auto& [name, value] : p.fields)
        if (name.empty() || name.size() > 32 || !std::isfinite(value)) std::abort();
      break;
    case payload_encoding::sign:
    case payload_encoding::qsgd: {
      std::uint64_t total = 0;
      for (auto b : p.block_sizes) total += b;
      if (total != p.dimension || p.codes.size() != p.dimension || p.scales.size() != p.block_sizes.size())
        std::abort();
      break;
    }
    default:
      if (p.values.size() != p.dimension) std::abort();
  }
  // Applying an accepted payload stays finite.
  std::vector<double> sum(p.dimension, 0.0);
  p.add_to(std::span<double>(sum));
  for (double v : sum)
    if (!std::isfinite(v)) std::abort();
  // Re-encoding gives back the same bytes.
  if (encode(*f) != std::vector<std::byte>(bytes.begin(), bytes.end())) std::abort();
  return 0;
}
