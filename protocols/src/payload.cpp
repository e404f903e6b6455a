#include "murmur/protocols/payload.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace murmur::protocols {
namespace {

std::uint32_t qsgd_levels(std::uint32_t bits) { return (1u << bits) - 1u; }

// Visits (index, value) of every stored entry.
template <class F>
void for_each_entry(const payload& p, F&& f) {
  switch (p.encoding) {
    case payload_encoding::sparse_f32:
      for (std::size_t k = 0; k < p.indices.size(); ++k) f(p.indices[k], static_cast<double>(p.values[k]));
      return;
    case payload_encoding::dense_f64:
      for (std::size_t k = 0; k < p.wide.size(); ++k) f(k, p.wide[k]);
      return;
    case payload_encoding::sign:
    case payload_encoding::qsgd: {
      const double div = p.encoding == payload_encoding::qsgd ? qsgd_levels(p.bits) : 1.0;
      std::size_t at = 0;
      for (std::size_t b = 0; b < p.block_sizes.size(); ++b) {
        // float arithmetic, so sender and receiver compute the same value.
        const float unit = static_cast<float>(static_cast<double>(p.scales[b]) / div);
        for (std::uint32_t k = 0; k < p.block_sizes[b]; ++k, ++at) f(at, static_cast<double>(unit * p.codes[at]));
      }
      return;
    }
    default:
      for (std::size_t k = 0; k < p.values.size(); ++k) f(k, static_cast<double>(p.values[k]));
  }
}

}  // namespace

void payload::add_to(std::span<float> dst, double factor) const {
  assert(dst.size() == dimension);
  for_each_entry(*this, [&](std::size_t i, double v) { dst[i] = static_cast<float>(dst[i] + factor * v); });
}

void payload::add_to(std::span<double> dst, double factor) const {
  assert(dst.size() == dimension);
  for_each_entry(*this, [&](std::size_t i, double v) { dst[i] += factor * v; });
}

std::vector<float> payload::dense() const {
  std::vector<float> out(dimension, 0.f);
  for_each_entry(*this, [&](std::size_t i, double v) { out[i] = static_cast<float>(v); });
  return out;
}

void payload::scale(double factor) {
  for (auto& v : values) v = static_cast<float>(v * factor);
  for (auto& v : wide) v *= factor;
  for (auto& s : scales) s = static_cast<float>(s * factor);
  // bf16 and f16 values must stay representable.
  if (encoding == payload_encoding::dense_bf16 || encoding == payload_encoding::dense_f16)
    *this = dense_payload(values, encoding);
}

std::size_t payload::wire_bytes() const {
  const std::size_t n = dimension;
  switch (encoding) {
    case payload_encoding::dense_f32:
      return 4 * n;
    case payload_encoding::sparse_f32:
      return 4 + 8 * indices.size();
    case payload_encoding::dense_bf16:
    case payload_encoding::dense_f16:
      return 2 * n;
    case payload_encoding::dense_f64:
      return 8 * n;
    case payload_encoding::sign:
      return 4 + 8 * block_sizes.size() + (n + 7) / 8;
    case payload_encoding::qsgd:
      return 8 + 8 * block_sizes.size() + (n * (bits + 1) + 7) / 8;
    case payload_encoding::record: {
      std::size_t bytes = 4 + 4 * n;
      for (const auto& [name, value] : fields) bytes += 1 + name.size() + 8;
      return bytes;
    }
  }
  return 0;
}

payload record_payload(std::vector<std::pair<std::string, double>> fields, std::span<const float> values) {
  payload p;
  p.encoding = payload_encoding::record;
  p.dimension = static_cast<std::uint32_t>(values.size());
  p.fields = std::move(fields);
  p.values.assign(values.begin(), values.end());
  return p;
}

// Bit-level conversions (clang 14 has no _Float16 on x86-64 without AVX-512 FP16).
std::uint16_t to_f16_bits(float f) {
  if (std::isfinite(f)) f = std::clamp(f, -65504.f, 65504.f);
  auto u = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u >= 0x47800000u) return sign | (u > 0x7f800000u ? 0x7e00u : 0x7c00u);  // NaN, inf
  if (u < 0x38800000u) {
    // Subnormal or zero: |f| * 2^24 rounded to the nearest even integer (exact scaling).
    const float scaled = std::bit_cast<float>(u) * 16777216.f;
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(scaled)));
  }
  // Normal: re-bias the exponent (127 -> 15) and round the 13 dropped bits to nearest even.
  u += 0xc8000fffu + ((u >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | (u >> 13));
}

float from_f16_bits(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float v = static_cast<float>(mantissa) * 5.9604644775390625e-8f;  // 2^-24
    return sign ? -v : v;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

std::uint16_t to_bf16_bits(float f) {
  const auto u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float from_bf16_bits(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

payload dense_payload(std::span<const float> x, payload_encoding encoding) {
  payload p;
  p.encoding = encoding;
  p.dimension = static_cast<std::uint32_t>(x.size());
  p.values.assign(x.begin(), x.end());
  if (encoding == payload_encoding::dense_bf16)
    for (auto& v : p.values) v = from_bf16_bits(to_bf16_bits(v));
  else if (encoding == payload_encoding::dense_f16)
    for (auto& v : p.values) v = from_f16_bits(to_f16_bits(v));
  else
    assert(encoding == payload_encoding::dense_f32);
  return p;
}

payload wide_payload(std::span<const double> x) {
  payload p;
  p.encoding = payload_encoding::dense_f64;
  p.dimension = static_cast<std::uint32_t>(x.size());
  p.wide.assign(x.begin(), x.end());
  return p;
}

payload sparse_payload(std::uint32_t dimension, std::vector<std::uint32_t> indices, std::vector<float> values) {
  assert(indices.size() == values.size());
  payload p;
  p.encoding = payload_encoding::sparse_f32;
  p.dimension = dimension;
  p.indices = std::move(indices);
  p.values = std::move(values);
  return p;
}

}  // namespace murmur::protocols
