#pragma once

// A seeded, portable random generator (xoshiro256**, seeded by splitmix64).
// Every distribution here is implemented by hand, so a seed gives the same
// numbers on every platform and standard library: runs and tests replay.
// Not thread-safe: one generator per agent or per thread.

#include <array>
#include <cstdint>
#include <span>
#include <utility>

namespace murmur::common {

class rng {
 public:
  explicit rng(std::uint64_t seed);

  // A generator for a sub-stream (e.g. agent `k` of a run seeded `seed`).
  static rng derive(std::uint64_t seed, std::uint64_t stream);

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  std::uint64_t uniform_int(std::uint64_t n);
  // Standard normal (Box-Muller with a cached second value).
  double normal();
  // Gamma(shape, 1) by Marsaglia-Tsang. REQUIRES: shape > 0.
  double gamma(double shape);
  // A Dirichlet(alpha, ..., alpha) draw written into `out`. REQUIRES: alpha > 0.
  void dirichlet(double alpha, std::span<double> out);

  // The generator's position (checkpoints); a cached normal is not part of it.
  std::array<std::uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void restore(const std::array<std::uint64_t, 4>& s) {
    for (std::size_t k = 0; k < 4; ++k) s_[k] = s[k];
    has_cached_normal_ = false;
  }

  // Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::size_t j = uniform_int(i);
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  std::uint64_t s_[4];
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

}  // namespace murmur::common
