#include "murmur/nn/tensor.hpp"

#include <cassert>

namespace murmur::nn {

std::size_t size_of(dtype t) {
  switch (t) {
    case dtype::f32:
      return 4;
    case dtype::bf16:
      return 2;
    case dtype::s8:
      return 1;
    case dtype::u8:
      return 1;
    case dtype::s32:
      return 4;
    case dtype::s64:
      return 8;
  }
  return 0;
}

const char* to_string(dtype t) {
  switch (t) {
    case dtype::f32:
      return "f32";
    case dtype::bf16:
      return "bf16";
    case dtype::s8:
      return "s8";
    case dtype::u8:
      return "u8";
    case dtype::s32:
      return "s32";
    case dtype::s64:
      return "s64";
  }
  return "?";
}

std::int64_t product(const dims& d) {
  std::int64_t p = 1;
  for (auto x : d) p *= x;
  return p;
}

std::string to_string(const dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(d[i]);
  }
  return s + "]";
}

tensor::tensor(dims d, dtype t, layout l)
    : dims_(std::move(d)), dtype_(t), layout_(l), storage_(product(dims_) * size_of(t)) {
  assert(l != layout::nhwc || dims_.size() == 4);
}

}  // namespace murmur::nn
