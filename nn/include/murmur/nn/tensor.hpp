#pragma once

// A tensor: logical dims, a dtype, a physical layout and 64-byte aligned
// storage it owns. Activations of 4-D layers are logically NCHW and
// physically NHWC (channels last), the layout every layer of murmur agrees on,
// so no reorders run between layers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/aligned_buffer.hpp"
#include "murmur/common/enum_names.hpp"

namespace murmur::nn {

enum class dtype : std::uint8_t { f32, bf16, s8, u8, s32, s64, f64 };  // f64: checkpointed state only
inline constexpr common::enum_name<dtype> dtype_names[] = {
    {dtype::f32, "f32"}, {dtype::bf16, "bf16"}, {dtype::s8, "s8"},  {dtype::u8, "u8"},
    {dtype::s32, "s32"}, {dtype::s64, "s64"},   {dtype::f64, "f64"}};
constexpr std::span<const common::enum_name<dtype>> names_of(dtype) { return dtype_names; }

std::size_t size_of(dtype t);
const char* to_string(dtype t);

using dims = std::vector<std::int64_t>;

std::int64_t product(const dims& d);
std::string to_string(const dims& d);

// How a tensor's elements are laid out in memory.
enum class layout : std::uint8_t {
  row_major,  // the dims in order (NC, OIHW, ...)
  nhwc,       // 4-D activations, logically NCHW
};

class tensor {
 public:
  tensor() = default;
  tensor(dims d, dtype t = dtype::f32, layout l = layout::row_major);

  const dims& shape() const { return dims_; }
  std::int64_t dim(std::size_t i) const { return dims_[i]; }
  std::size_t rank() const { return dims_.size(); }
  std::int64_t numel() const { return product(dims_); }
  dtype type() const { return dtype_; }
  layout memory_layout() const { return layout_; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * size_of(dtype_); }

  void* raw() { return storage_.data(); }
  const void* raw() const { return storage_.data(); }
  // REQUIRES: type() == dtype::f32.
  float* f32() { return reinterpret_cast<float*>(storage_.data()); }
  const float* f32() const { return reinterpret_cast<const float*>(storage_.data()); }
  std::span<float> f32_span() { return {f32(), static_cast<std::size_t>(numel())}; }
  std::span<const float> f32_span() const { return {f32(), static_cast<std::size_t>(numel())}; }

 private:
  dims dims_;
  dtype dtype_ = dtype::f32;
  layout layout_ = layout::row_major;
  common::aligned_buffer<std::byte> storage_;
};

}  // namespace murmur::nn
