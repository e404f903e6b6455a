#pragma once

// exp and sigmoid in plain arithmetic that the compiler vectorizes (no libm
// call in the loop). exp: range reduction to 2^n e^r with |r| <= ln2/2 and a
// degree-6 polynomial; relative error below 3e-7 over [-87, 88] (tested
// against std::exp). The files using it compile with -fno-trapping-math, so
// GCC may turn the clamps into vector selects. Internal to nn/.

#include <cstdint>
#include <cstring>

namespace murmur::nn::detail {

inline float bits_to_float(std::int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

inline float fast_exp(float x) {
  x = x < -87.f ? -87.f : x;
  x = x > 88.f ? 88.f : x;
  // n = round(x / ln2), by truncation and a correction for negatives.
  const float t = x * 1.44269504088896341f + 0.5f;
  std::int32_t ni = static_cast<std::int32_t>(t);
  ni = static_cast<float>(ni) > t ? ni - 1 : ni;
  const float n = static_cast<float>(ni);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;  // x - n ln2, ln2 split in two
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  return p * bits_to_float((ni + 127) << 23);
}

inline float fast_sigmoid(float z) { return 1.f / (1.f + fast_exp(-z)); }

}  // namespace murmur::nn::detail
