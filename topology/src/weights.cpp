#include "murmur/topology/weights.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

namespace murmur::topology {

namespace {

// w_ij = 1 / (offset + max(d_i, d_j)) on edges, w_ii = 1 - sum: symmetric,
// doubly stochastic on any undirected graph.
common::result<mixing_matrix> max_degree_weights(const graph& g, double offset, const char* name) {
  if (g.directed())
    return common::make_error(common::errc::invalid_argument,
                              std::string(name) + " weights need an undirected graph (use push weights)");
  mixing_matrix w(g.size());
  for (std::int64_t i = 0; i < g.size(); ++i) {
    double sum = 0;
    for (auto j : g.out_neighbors(i)) {
      w.at(i, j) = 1.0 / (offset + static_cast<double>(std::max(g.out_degree(i), g.out_degree(j))));
      sum += w.at(i, j);
    }
    w.at(i, i) = 1.0 - sum;
  }
  return w;
}

}  // namespace

common::result<mixing_matrix> metropolis_hastings(const graph& g) {
  return max_degree_weights(g, 1.0, "Metropolis-Hastings");
}

common::result<mixing_matrix> choco_weights(const graph& g) { return max_degree_weights(g, 0.0, "CHOCO"); }

namespace {

// Agent a gives 1 / (degree + 1) to itself and to each neighbour: its row
// over in-neighbours (`by_row`, row stochastic) or its column over
// out-neighbours (column stochastic).
mixing_matrix equal_shares(const graph& g, bool by_row) {
  mixing_matrix w(g.size());
  for (std::int64_t a = 0; a < g.size(); ++a) {
    const auto& peers = by_row ? g.in_neighbors(a) : g.out_neighbors(a);
    const double share = 1.0 / static_cast<double>(peers.size() + 1);
    w.at(a, a) = share;
    for (auto b : peers) (by_row ? w.at(a, b) : w.at(b, a)) = share;
  }
  return w;
}

}  // namespace

mixing_matrix uniform_weights(const graph& g) { return equal_shares(g, true); }

mixing_matrix push_weights(const graph& g) { return equal_shares(g, false); }

namespace {

bool sums_to_one(const mixing_matrix& w, bool rows, double tol) {
  for (std::int64_t a = 0; a < w.size(); ++a) {
    double sum = 0;
    for (std::int64_t b = 0; b < w.size(); ++b) {
      const double v = rows ? w.at(a, b) : w.at(b, a);
      if (v < -tol) return false;
      sum += v;
    }
    if (std::abs(sum - 1.0) > tol * static_cast<double>(w.size())) return false;
  }
  return true;
}

}  // namespace

bool row_stochastic(const mixing_matrix& w, double tol) { return sums_to_one(w, true, tol); }
bool column_stochastic(const mixing_matrix& w, double tol) { return sums_to_one(w, false, tol); }
bool doubly_stochastic(const mixing_matrix& w, double tol) {
  return row_stochastic(w, tol) && column_stochastic(w, tol);
}

double spectral_gap(const mixing_matrix& w) {
  const auto n = w.size();
  if (n < 2) return 1.0;
  Eigen::MatrixXd m(n, n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) m(i, j) = w.at(i, j);
  std::vector<double> moduli;
  if (m.isApprox(m.transpose(), 1e-12)) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m, Eigen::EigenvaluesOnly);
    const auto& ev = solver.eigenvalues();  // ascending
    // lambda_1 = 1 is the largest; the gap is set by lambda_2 and lambda_n.
    return 1.0 - std::max(std::abs(ev(n - 2)), std::abs(ev(0)));
  }
  Eigen::EigenSolver<Eigen::MatrixXd> solver(m, false);
  for (std::int64_t i = 0; i < n; ++i) moduli.push_back(std::abs(solver.eigenvalues()(i)));
  std::ranges::sort(moduli, std::greater<>());
  return 1.0 - moduli[1];
}

}  // namespace murmur::topology
