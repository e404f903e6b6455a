#pragma once

// Communication graphs over n agents (ALGORITHMS.md §9.3). A graph stores
// out-neighbour lists; an undirected graph stores each edge both ways.
// Self-loops are never stored: mixing weights give every agent its own share.

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"

namespace murmur::topology {

class graph {
 public:
  graph(std::int64_t n, bool directed);

  std::int64_t size() const { return static_cast<std::int64_t>(out_.size()); }
  bool directed() const { return directed_; }
  // Adds i -> j (and j -> i when undirected). Ignores self-loops and repeats.
  void add_edge(std::int64_t i, std::int64_t j);
  const std::vector<std::int64_t>& out_neighbors(std::int64_t i) const { return out_[i]; }
  const std::vector<std::int64_t>& in_neighbors(std::int64_t i) const { return in_[i]; }
  std::int64_t out_degree(std::int64_t i) const { return static_cast<std::int64_t>(out_[i].size()); }
  std::int64_t in_degree(std::int64_t i) const { return static_cast<std::int64_t>(in_[i].size()); }
  std::int64_t edge_count() const;  // undirected edges counted once
  // Every agent reaches every other along out-edges.
  bool strongly_connected() const;

 private:
  std::vector<std::vector<std::int64_t>> out_, in_;
  bool directed_;
};

// Constructions. Sizes are checked: each returns an error naming what is wrong.
common::result<graph> ring(std::int64_t n);
common::result<graph> directed_ring(std::int64_t n);
common::result<graph> chain(std::int64_t n);
common::result<graph> complete(std::int64_t n);
common::result<graph> star(std::int64_t n);
// 2-D torus of rows x cols (networkx grid_2d_graph(periodic=True)).
common::result<graph> torus_2d(std::int64_t rows, std::int64_t cols);
// Circulant C_n(offsets): i ~ i +- o (mod n). The Aketi code's "torus" is C_n(1, 4).
common::result<graph> circulant(std::int64_t n, const std::vector<std::int64_t>& offsets);
// Static exponential graph: i -> i + 2^k (mod n), k = 0 .. ceil(log2 n) - 1 (directed).
common::result<graph> exponential(std::int64_t n);
// Hypercube of 2^dim agents.
common::result<graph> hypercube(std::int64_t n);
// RelaySum's binary tree: node 0 attaches to 1; for i >= 1 the parent is i / 2.
common::result<graph> binary_tree(std::int64_t n);
// RelaySum's double binary trees (epfml/relaysgd, topologies.py): the
// binary tree and its mirror (node i is n - 1 - i), as one graph.
common::result<graph> double_binary_tree(std::int64_t n);
// The neighbours of `self` in the binary tree on n nodes, or in its mirror,
// sorted (O(1): what an agent needs without the whole graph).
std::vector<std::int64_t> binary_tree_neighbours(std::int64_t self, std::int64_t n, bool mirrored);
// The Davis Southern Women network (ALGORITHMS.md §9.3): 18 women (agents
// 0-17) and the 14 events they attended (agents 18-31), 89 edges, in
// networkx's node order. Its weights are MH (QGM, RelaySum) or
// 1 / max(d_i, d_j) (the CHOCO code: see choco_weights).
graph davis_southern_women();
// The cubic graphs of the Aketi GUT code (ALGORITHMS.md §9.3), with its
// adjacency lists: Petersen (10 agents) and Dyck (32 agents). Uniform 1/4.
graph petersen();
graph dyck();

// "i j" per line (0-based; '#' starts a comment); undirected unless `directed`.
common::result<graph> read_edge_list(const std::string& path, bool directed);

}  // namespace murmur::topology
