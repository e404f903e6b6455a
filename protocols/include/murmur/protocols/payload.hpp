#pragma once

// What a message carries: a vector of `dimension` entries in one of the wire
// encodings (ALGORITHMS.md §0.6). A payload holds exactly the values the
// receiver will see: bf16/f16 values are already rounded, quantized ones are
// kept as per-block scales and integer codes. So a sender that keeps a copy
// of what it sent (CHOCO's x̂, error feedback) and the receiver agree bit for
// bit.
//
//   dense_f32   dimension f32
//   sparse_f32  k indices (strictly increasing) and k f32 values
//   dense_bf16  dimension bf16 (round to nearest even)
//   dense_f16   dimension IEEE half (round to nearest even; saturates at ±65504)
//   dense_f64   dimension f64 (running sums, ALGORITHMS.md §8.2)
//   sign        per block one f32 scale (‖u‖₁ / size) and 1 bit per entry:
//               value = scale · (bit ? -1 : +1)
//   qsgd        per block one f32 norm (‖u‖₂), per entry a sign bit and a
//               level l in 0 .. s (s = 2^bits - 1) in `bits` bits:
//               value = norm · sign · l / s

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace murmur::protocols {

enum class payload_encoding : std::uint16_t {
  dense_f32 = 1,
  sparse_f32 = 2,
  dense_bf16 = 3,
  dense_f16 = 4,
  dense_f64 = 5,
  sign = 6,
  qsgd = 7,
  record = 8,  // named f64 fields, then `dimension` f32 values (control messages: reports)
};

struct payload {
  payload_encoding encoding = payload_encoding::dense_f32;
  std::uint32_t dimension = 0;
  std::vector<float> values;           // dense f32/bf16/f16 (already rounded) or sparse values
  std::vector<std::uint32_t> indices;  // sparse
  std::vector<double> wide;            // dense_f64
  // sign and qsgd: blocks (tensors) partition the vector.
  std::vector<std::uint32_t> block_sizes;
  std::vector<float> scales;       // one per block
  std::vector<std::int8_t> codes;  // per entry: ±1 (sign) or -s .. s (qsgd)
  std::uint32_t bits = 0;          // qsgd level bits, 1 .. 7
  // record: (name, value) pairs; names 1-32 characters of [a-z0-9_], distinct.
  std::vector<std::pair<std::string, double>> fields;

  // dst += factor · value, entry by entry. REQUIRES dst.size() == dimension.
  void add_to(std::span<float> dst, double factor = 1.0) const;
  void add_to(std::span<double> dst, double factor = 1.0) const;
  // The vector as dimension floats.
  std::vector<float> dense() const;
  // Multiplies every value by `factor` (quantized: the scales), keeping the encoding.
  void scale(double factor);
  // Bytes of the payload on the wire (without the frame header).
  std::size_t wire_bytes() const;
};

// Builders. Values are rounded to what the encoding can carry.
payload dense_payload(std::span<const float> x, payload_encoding encoding = payload_encoding::dense_f32);
payload wide_payload(std::span<const double> x);
// REQUIRES: field names valid (see payload::fields) and distinct; values finite.
payload record_payload(std::vector<std::pair<std::string, double>> fields, std::span<const float> values);
// REQUIRES indices strictly increasing and < dimension; same size as values.
payload sparse_payload(std::uint32_t dimension, std::vector<std::uint32_t> indices, std::vector<float> values);

// IEEE half and bfloat16 conversions (round to nearest even).
std::uint16_t to_f16_bits(float f);
float from_f16_bits(std::uint16_t h);
std::uint16_t to_bf16_bits(float f);
float from_bf16_bits(std::uint16_t b);

}  // namespace murmur::protocols
