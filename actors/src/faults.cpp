#include "murmur/actors/faults.hpp"

#include <algorithm>

namespace murmur::actors {

fault_injector::fault_injector(const fault_settings& f, std::int64_t agent)
    : f_(f), gen_(common::rng::derive(f.seed, static_cast<std::uint64_t>(agent))) {
  if (std::ranges::find(f.stragglers, agent) != f.stragglers.end()) slowdown_ = std::max(1.0, f.slowdown);
}

bool fault_injector::active() const {
  return f_.drop > 0 || f_.delay_ms > 0 || f_.jitter_ms > 0 || f_.duplicate > 0 || f_.reorder > 0 ||
         f_.bandwidth_mbps > 0;
}

fault_decision fault_injector::decide(std::int64_t to, std::size_t bytes, double now_s) {
  fault_decision d;
  if (gen_.uniform() < f_.drop) return d;
  const int copies = gen_.uniform() < f_.duplicate ? 2 : 1;
  double start = now_s;
  if (f_.bandwidth_mbps > 0) {
    // The link sends one frame after another at the capped rate.
    auto& free_at = link_free_at_[to];
    free_at = std::max(free_at, now_s) + static_cast<double>(bytes) * 8.0 / (f_.bandwidth_mbps * 1e6);
    start = free_at;
  }
  for (int c = 0; c < copies; ++c) {
    double delay = (start - now_s) + f_.delay_ms * 1e-3 + gen_.uniform() * f_.jitter_ms * 1e-3;
    if (gen_.uniform() < f_.reorder) delay += gen_.uniform() * std::max(f_.jitter_ms, 1.0) * 1e-3 * 4;
    d.delays_s.push_back(delay);
  }
  return d;
}

}  // namespace murmur::actors
