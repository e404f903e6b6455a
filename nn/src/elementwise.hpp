#pragma once

// Element-wise helpers on f32 or bf16 tensors. Internal to nn/.

#include <cassert>

#include "murmur/nn/bf16.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn::detail {

// Calls f(T*) with the tensor's data as float* or bf16_t*.
template <class F>
decltype(auto) with_elements(tensor& t, F&& f) {
  assert(t.type() == dtype::f32 || t.type() == dtype::bf16);
  if (t.type() == dtype::bf16) return f(static_cast<bf16_t*>(t.raw()));
  return f(static_cast<float*>(t.raw()));
}

// out = a + b. REQUIRES: same shape, type and layout.
inline void add(const tensor& a, const tensor& b, tensor& out) {
  assert(a.shape() == b.shape() && a.type() == b.type() && out.type() == a.type());
  const std::int64_t n = out.numel();
  with_elements(out, [&](auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    const T* x = static_cast<const T*>(a.raw());
    const T* y = static_cast<const T*>(b.raw());
    for (std::int64_t i = 0; i < n; ++i) o[i] = from_f32<T>(to_f32(x[i]) + to_f32(y[i]));
  });
}

// dst = src, converting between f32 and bf16. REQUIRES: same shape and layout.
inline void convert(const tensor& src, tensor& dst) {
  assert(src.shape() == dst.shape());
  const std::int64_t n = src.numel();
  with_elements(dst, [&](auto* d) {
    using D = std::remove_pointer_t<decltype(d)>;
    if (src.type() == dtype::bf16) {
      const auto* s = static_cast<const bf16_t*>(src.raw());
      for (std::int64_t i = 0; i < n; ++i) d[i] = from_f32<D>(to_f32(s[i]));
    } else {
      const auto* s = static_cast<const float*>(src.raw());
      for (std::int64_t i = 0; i < n; ++i) d[i] = from_f32<D>(s[i]);
    }
  });
}

}  // namespace murmur::nn::detail
