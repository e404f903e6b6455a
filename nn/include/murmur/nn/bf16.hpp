#pragma once

// bfloat16 values: the top 16 bits of an IEEE f32. Conversion from f32
// rounds to nearest even (as oneDNN does); NaN stays NaN.

#include <bit>
#include <cstdint>

namespace murmur::nn {

struct bf16_t {
  std::uint16_t bits;
};

inline float to_f32(bf16_t v) { return std::bit_cast<float>(static_cast<std::uint32_t>(v.bits) << 16); }
inline float to_f32(float v) { return v; }

inline bf16_t to_bf16(float f) {
  const auto u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x40)};  // quiet NaN
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<std::uint16_t>(rounded >> 16)};
}

// Stores f32 `v` as T (float or bf16_t).
template <class T>
inline T from_f32(float v) {
  if constexpr (sizeof(T) == 2)
    return to_bf16(v);
  else
    return v;
}

}  // namespace murmur::nn
