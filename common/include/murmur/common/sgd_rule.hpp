#pragma once

// The SGD rule of ALGORITHMS.md §0.3 with PyTorch's semantics
// (torch.optim.SGD, dampening 0), written once for the engine's optimizer
// (nn::sgd) and the protocols' local step (protocols::local_sgd):
//   g' = g + weight_decay * x
//   m <- momentum * m + g'                 (skipped when momentum is 0)
//   d  = g' + momentum * m  (Nesterov)  or  m  (or g' when momentum is 0)
// `use(i, d)` receives each entry's direction; it may overwrite x[i] (x[i]
// is read before use(i, ...) is called).

#include <cstddef>
#include <span>

namespace murmur::common {

struct sgd_rule {
  float momentum = 0.f;
  float weight_decay = 0.f;
  bool nesterov = false;
};

// REQUIRES: x, g (and m unless momentum is 0) of the same size.
template <class Use>
void sgd_directions(const sgd_rule& r, std::span<const float> x, std::span<const float> g, std::span<float> m,
                    Use&& use) {
  const float beta = r.momentum, wd = r.weight_decay;
  const std::size_t n = g.size();
  if (beta == 0.f) {
    for (std::size_t i = 0; i < n; ++i) use(i, g[i] + wd * x[i]);
  } else if (r.nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * x[i];
      m[i] = beta * m[i] + gi;
      use(i, gi + beta * m[i]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * x[i];
      m[i] = beta * m[i] + gi;
      use(i, m[i]);
    }
  }
}

}  // namespace murmur::common
