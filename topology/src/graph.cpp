#include "murmur/topology/graph.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace murmur::topology {
namespace {

using common::errc;
using common::make_error;

common::status need(bool ok, const std::string& what) {
  if (ok) return {};
  return make_error(errc::invalid_argument, what);
}

}  // namespace

graph::graph(std::int64_t n, bool directed) : out_(n), in_(n), directed_(directed) {}

void graph::add_edge(std::int64_t i, std::int64_t j) {
  if (i == j) return;
  const auto link = [&](std::int64_t a, std::int64_t b) {
    if (std::ranges::find(out_[a], b) != out_[a].end()) return;
    out_[a].push_back(b);
    in_[b].push_back(a);
  };
  link(i, j);
  if (!directed_) link(j, i);
}

std::int64_t graph::edge_count() const {
  std::int64_t total = 0;
  for (const auto& o : out_) total += static_cast<std::int64_t>(o.size());
  return directed_ ? total : total / 2;
}

bool graph::strongly_connected() const {
  const auto n = size();
  if (n == 0) return false;
  // Reachable from 0 along out-edges and along in-edges: both must be everyone.
  for (const auto* adj : {&out_, &in_}) {
    std::vector<char> seen(n, 0);
    std::vector<std::int64_t> stack{0};
    seen[0] = 1;
    std::int64_t count = 1;
    while (!stack.empty()) {
      const auto v = stack.back();
      stack.pop_back();
      for (auto w : (*adj)[v])
        if (!seen[w]) seen[w] = 1, ++count, stack.push_back(w);
    }
    if (count != n) return false;
  }
  return true;
}

common::result<graph> ring(std::int64_t n) {
  if (auto s = need(n >= 2, "a ring needs at least 2 agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 0; i < n; ++i) g.add_edge(i, (i + 1) % n);
  return g;
}

common::result<graph> directed_ring(std::int64_t n) {
  if (auto s = need(n >= 2, "a directed ring needs at least 2 agents"); !s) return s.err();
  graph g(n, true);
  for (std::int64_t i = 0; i < n; ++i) g.add_edge(i, (i + 1) % n);
  return g;
}

common::result<graph> chain(std::int64_t n) {
  if (auto s = need(n >= 2, "a chain needs at least 2 agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 0; i + 1 < n; ++i) g.add_edge(i, i + 1);
  return g;
}

common::result<graph> complete(std::int64_t n) {
  if (auto s = need(n >= 1, "a graph needs at least 1 agent"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j) g.add_edge(i, j);
  return g;
}

common::result<graph> star(std::int64_t n) {
  if (auto s = need(n >= 2, "a star needs at least 2 agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 1; i < n; ++i) g.add_edge(0, i);
  return g;
}

common::result<graph> torus_2d(std::int64_t rows, std::int64_t cols) {
  if (auto s = need(rows >= 1 && cols >= 1 && rows * cols >= 2, "a torus needs rows, cols >= 1 and 2 agents"); !s)
    return s.err();
  graph g(rows * cols, false);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      g.add_edge(r * cols + c, r * cols + (c + 1) % cols);
      g.add_edge(r * cols + c, ((r + 1) % rows) * cols + c);
    }
  return g;
}

common::result<graph> circulant(std::int64_t n, const std::vector<std::int64_t>& offsets) {
  if (auto s = need(n >= 2, "a circulant graph needs at least 2 agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 0; i < n; ++i)
    for (auto o : offsets) g.add_edge(i, ((i + o) % n + n) % n);
  return g;
}

common::result<graph> exponential(std::int64_t n) {
  if (auto s = need(n >= 2, "an exponential graph needs at least 2 agents"); !s) return s.err();
  graph g(n, true);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t hop = 1; hop < n; hop *= 2) g.add_edge(i, (i + hop) % n);
  return g;
}

common::result<graph> hypercube(std::int64_t n) {
  if (auto s = need(n >= 2 && (n & (n - 1)) == 0, "a hypercube needs a power of two agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t bit = 1; bit < n; bit <<= 1) g.add_edge(i, i ^ bit);
  return g;
}

common::result<graph> binary_tree(std::int64_t n) {
  if (auto s = need(n >= 2, "a binary tree needs at least 2 agents"); !s) return s.err();
  graph g(n, false);
  // Node 1's parent is 0 (i / 2 would be 0 for it too); the rule is i -> i / 2.
  for (std::int64_t i = 1; i < n; ++i) g.add_edge(i, i / 2);
  return g;
}

common::result<graph> double_binary_tree(std::int64_t n) {
  if (auto s = need(n >= 2, "double binary trees need at least 2 agents"); !s) return s.err();
  graph g(n, false);
  for (std::int64_t i = 1; i < n; ++i) {
    g.add_edge(i, i / 2);
    g.add_edge(n - 1 - i, n - 1 - i / 2);
  }
  return g;
}

std::vector<std::int64_t> binary_tree_neighbours(std::int64_t self, std::int64_t n, bool mirrored) {
  const auto id = [&](std::int64_t i) { return mirrored ? n - 1 - i : i; };
  const auto i = id(self);
  std::vector<std::int64_t> out;
  if (i >= 1) out.push_back(id(i / 2));
  for (const auto c : {2 * i, 2 * i + 1})
    if (c >= 1 && c < n && c != i) out.push_back(id(c));
  std::ranges::sort(out);
  return out;
}

graph petersen() {
  graph g(10, false);
  for (std::int64_t i = 0; i < 5; ++i) {
    g.add_edge(i, (i + 1) % 5);          // outer 5-cycle
    g.add_edge(i, i + 5);                // spokes
    g.add_edge(i + 5, 5 + (i + 2) % 5);  // inner pentagram
  }
  return g;
}

graph dyck() {
  // Four 8-cycles (0-7, 8-15, 16-23, 24-31) and the cross edges of the GUT code's DyckGraph.
  static const std::int64_t cross[][2]{{0, 8},  {1, 17},  {2, 10},  {3, 19},  {4, 12},  {5, 21},  {6, 14},  {7, 23},
                                       {9, 25}, {11, 27}, {13, 29}, {15, 31}, {16, 24}, {18, 26}, {20, 28}, {22, 30}};
  graph g(32, false);
  for (std::int64_t c = 0; c < 4; ++c)
    for (std::int64_t k = 0; k < 8; ++k) g.add_edge(8 * c + k, 8 * c + (k + 1) % 8);
  for (const auto& e : cross) g.add_edge(e[0], e[1]);
  return g;
}

graph davis_southern_women() {
  // Events (1-14) each woman attended (Davis, Gardner & Gardner, Deep South, 1941).
  static const std::vector<std::vector<int>> attended{
      {1, 2, 3, 4, 5, 6, 8, 9},
      {1, 2, 3, 5, 6, 7, 8},
      {2, 3, 4, 5, 6, 7, 8, 9},
      {1, 3, 4, 5, 6, 7, 8},
      {3, 4, 5, 7},
      {3, 5, 6, 8},
      {5, 6, 7, 8},
      {6, 8, 9},
      {5, 7, 8, 9},
      {7, 8, 9, 12},
      {8, 9, 10, 12},
      {8, 9, 10, 12, 13, 14},
      {7, 8, 9, 10, 12, 13, 14},
      {6, 7, 9, 10, 11, 12, 13, 14},
      {7, 8, 10, 11, 12},
      {8, 9},
      {9, 11},
      {9, 11},
  };
  graph g(32, false);
  for (std::size_t woman = 0; woman < attended.size(); ++woman)
    for (int event : attended[woman]) g.add_edge(static_cast<std::int64_t>(woman), 17 + event);
  return g;
}

common::result<graph> read_edge_list(const std::string& path, bool directed) {
  std::ifstream in(path);
  if (!in) return make_error(errc::not_found, path + ": cannot open");
  std::vector<std::pair<std::int64_t, std::int64_t>> edges;
  std::int64_t n = 0;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank or comment only
    std::int64_t i = -1, j = -1;
    std::string rest;
    if (!(fields >> i) || !(fields >> j) || (fields >> rest) || i < 0 || j < 0 || i > 10'000'000 || j > 10'000'000)
      return make_error(errc::corrupt, path + ":" + std::to_string(number) +
                                           ": expected two agent numbers 0 <= i, j, got '" + line + "'");
    edges.emplace_back(i, j);
    n = std::max({n, i + 1, j + 1});
  }
  if (n < 2) return make_error(errc::corrupt, path + ": fewer than 2 agents");
  graph g(n, directed);
  for (auto [i, j] : edges) g.add_edge(i, j);
  return g;
}

}  // namespace murmur::topology
