// murmur topology: build a graph and its mixing weights, print degrees,
// stochasticity and spectral gap, and optionally write it as DOT.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "murmur/topology/catalogue.hpp"
#include "murmur/topology/schedule.hpp"
#include "murmur/topology/weights.hpp"

namespace murmur::app {
namespace {

struct topology_args {
  std::string kind = "ring", weights = "", file, dot;
  std::int64_t n = 16, rows = 0, degree = 3, round = 0;
  double p = 0.2;
  std::uint64_t seed = 1;
};

common::result<topology::graph> build(const topology_args& a) {
  auto s = topology::make_schedule(
      {.kind = a.kind, .n = a.n, .rows = a.rows, .degree = a.degree, .p = a.p, .seed = a.seed, .file = a.file});
  if (!s) return s.err();
  return (*s)->at(a.round);
}

int run(const topology_args& a) {
  auto g = build(a);
  if (!g) return fail(g.err().message);
  const std::string scheme = a.weights.empty() ? (g->directed() ? "push" : "mh") : a.weights;
  common::result<topology::mixing_matrix> w = topology::mixing_matrix(0);
  if (scheme == "mh")
    w = topology::metropolis_hastings(*g);
  else if (scheme == "choco")
    w = topology::choco_weights(*g);
  else if (scheme == "uniform")
    w = topology::uniform_weights(*g);
  else if (scheme == "push")
    w = topology::push_weights(*g);
  else
    return fail("unknown weights '" + scheme + "' (known: mh, choco, uniform, push)");
  if (!w) return fail(w.err().message);
  std::int64_t lo = g->size(), hi = 0, total = 0;
  for (std::int64_t i = 0; i < g->size(); ++i) {
    lo = std::min(lo, g->out_degree(i));
    hi = std::max(hi, g->out_degree(i));
    total += g->out_degree(i);
  }
  std::printf("%s: %lld agents, %lld %s edges, out-degree min %lld mean %.2f max %lld, %s\n", a.kind.c_str(),
              static_cast<long long>(g->size()), static_cast<long long>(g->edge_count()),
              g->directed() ? "directed" : "undirected", static_cast<long long>(lo),
              static_cast<double>(total) / static_cast<double>(g->size()), static_cast<long long>(hi),
              g->strongly_connected() ? "strongly connected" : "NOT connected");
  std::printf("weights %s: row stochastic %s, column stochastic %s, spectral gap %.4f\n", scheme.c_str(),
              topology::row_stochastic(*w) ? "yes" : "no", topology::column_stochastic(*w) ? "yes" : "no",
              topology::spectral_gap(*w));
  std::printf("degrees:");
  for (std::int64_t i = 0; i < g->size(); ++i) std::printf(" %lld", static_cast<long long>(g->out_degree(i)));
  std::printf("\n");
  if (!a.dot.empty()) {
    std::ofstream out(a.dot);
    out << (g->directed() ? "digraph" : "graph") << " murmur {\n";
    for (std::int64_t i = 0; i < g->size(); ++i)
      for (auto j : g->out_neighbors(i))
        if (g->directed() || i < j)
          out << fmt::format("  {} {} {} [label=\"{:.3g}\"];\n", i, g->directed() ? "->" : "--", j, w->at(j, i));
    out << "}\n";
    if (!out) return fail(a.dot + ": write failed");
  }
  return 0;
}

}  // namespace

runner add_topology_command(CLI::App& cmd) {
  auto a = std::make_shared<topology_args>();
  cmd.add_option("--kind", a->kind,
                 "ring | directed-ring | chain | complete | star | torus | aketi-torus | exponential "
                 "| one-peer-exponential | dde-exponential | bipartite-exponential | random-peers | hypercube | "
                 "binary-tree | social | petersen | dyck | erdos-renyi | regular | edges")
      ->capture_default_str();
  cmd.add_option("--n", a->n, "agents")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd.add_option("--weights", a->weights, "mh | choco | uniform | push (default: mh, or push when directed)");
  cmd.add_option("--rows", a->rows, "torus rows (default: floor(sqrt(n)))");
  cmd.add_option("--degree", a->degree, "degree of regular, peers per round of random-peers")->capture_default_str();
  cmd.add_option("--p", a->p, "edge probability of erdos-renyi")->capture_default_str();
  cmd.add_option("--seed", a->seed, "seed of the random topologies")->capture_default_str();
  cmd.add_option("--round", a->round, "round of a time-varying topology")->capture_default_str();
  cmd.add_option("--file", a->file, "edge list of --kind edges ('i j' per line)");
  cmd.add_option("--dot", a->dot, "write the graph as DOT (edge labels: mixing weights)");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
