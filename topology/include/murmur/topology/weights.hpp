#pragma once

// Mixing weights (ALGORITHMS.md §9.1) as a dense n x n matrix W: w_ij > 0 iff
// agent i uses agent j's value (row i is what i combines; column j is how
// j's value is split). Checks of stochasticity, and the spectral gap (§9.2).

#include <cstdint>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/topology/graph.hpp"

namespace murmur::topology {

class mixing_matrix {
 public:
  explicit mixing_matrix(std::int64_t n) : n_(n), w_(n * n, 0.0) {}
  std::int64_t size() const { return n_; }
  double& at(std::int64_t i, std::int64_t j) { return w_[i * n_ + j]; }
  double at(std::int64_t i, std::int64_t j) const { return w_[i * n_ + j]; }

 private:
  std::int64_t n_;
  std::vector<double> w_;
};

// Metropolis-Hastings on an undirected graph: w_ij = 1 / (1 + max(d_i, d_j)),
// w_ii = 1 - sum. Symmetric and doubly stochastic.
common::result<mixing_matrix> metropolis_hastings(const graph& g);
// The CHOCO code's weights: w_ij = 1 / max(d_i, d_j), w_ii = 1 - sum.
common::result<mixing_matrix> choco_weights(const graph& g);
// Uniform per node: w_ij = 1 / (d_i + 1) over in-neighbours and self (row
// stochastic; doubly stochastic on regular graphs).
mixing_matrix uniform_weights(const graph& g);
// Push weights for directed graphs: sender j splits 1 / (out_j + 1) to each
// out-neighbour and itself (column stochastic).
mixing_matrix push_weights(const graph& g);

// Stochasticity within `tol` (rows, columns or both sum to 1; no negative entry).
bool row_stochastic(const mixing_matrix& w, double tol = 1e-12);
bool column_stochastic(const mixing_matrix& w, double tol = 1e-12);
bool doubly_stochastic(const mixing_matrix& w, double tol = 1e-12);

// Symmetric W: 1 - max(|lambda_2|, |lambda_n|); otherwise 1 - |lambda_2| (the
// second largest eigenvalue modulus).
double spectral_gap(const mixing_matrix& w);

}  // namespace murmur::topology
