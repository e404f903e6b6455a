#include "murmur/nn/tensor.hpp"

#include <cassert>

namespace murmur::nn {

std::size_t size_of(dtype t) {
  constexpr std::size_t bytes[] = {4, 2, 1, 1, 4, 8, 8};  // in the order of dtype
  return bytes[static_cast<std::size_t>(t)];
}

const char* to_string(dtype t) { return common::name_of(t).data(); }

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
