#include "murmur/topology/catalogue.hpp"

#include <cmath>

#include "murmur/topology/graph.hpp"

namespace murmur::topology {
namespace {

common::result<graph> make_graph(const graph_spec& a) {
  if (a.kind == "ring") return ring(a.n);
  if (a.kind == "directed-ring") return directed_ring(a.n);
  if (a.kind == "chain") return chain(a.n);
  if (a.kind == "complete") return complete(a.n);
  if (a.kind == "star") return star(a.n);
  if (a.kind == "torus") {
    const auto rows = a.rows ? a.rows : static_cast<std::int64_t>(std::sqrt(static_cast<double>(a.n)));
    if (rows < 1 || a.n % rows != 0)
      return common::make_error(common::errc::invalid_argument,
                                "torus rows " + std::to_string(rows) + " do not divide n = " + std::to_string(a.n));
    return torus_2d(rows, a.n / rows);
  }
  if (a.kind == "aketi-torus") return circulant(a.n, {1, 4});
  if (a.kind == "exponential") return exponential(a.n);
  if (a.kind == "hypercube") return hypercube(a.n);
  if (a.kind == "binary-tree") return binary_tree(a.n);
  if (a.kind == "double-binary-tree") return double_binary_tree(a.n);
  if (a.kind == "social") {
    if (a.n != 32)
      return common::make_error(common::errc::invalid_argument,
                                "the social network (Davis Southern Women) has 32 agents");
    return davis_southern_women();
  }
  if (a.kind == "petersen" || a.kind == "dyck") {
    const std::int64_t size = a.kind == "petersen" ? 10 : 32;
    if (a.n != size)
      return common::make_error(common::errc::invalid_argument, "the " + a.kind + " graph has " + std::to_string(size) +
                                                                    " agents; pass --n " + std::to_string(size));
    return a.kind == "petersen" ? petersen() : dyck();
  }
  if (a.kind == "erdos-renyi") return erdos_renyi(a.n, a.p, a.seed);
  if (a.kind == "regular") return random_regular(a.n, a.degree, a.seed);
  if (a.kind == "edges") return read_edge_list(a.file, false);
  return common::make_error(
      common::errc::invalid_argument,
      "unknown topology '" + a.kind +
          "' (known: ring, directed-ring, chain, complete, star, torus, aketi-torus, exponential, "
          "one-peer-exponential, dde-exponential, bipartite-exponential, random-peers, hypercube, binary-tree, "
          "double-binary-tree, social, petersen, dyck, erdos-renyi, regular, edges)");
}

}  // namespace

const std::vector<std::string>& graph_kinds() {
  static const std::vector<std::string> kinds{"ring",
                                              "directed-ring",
                                              "chain",
                                              "complete",
                                              "star",
                                              "torus",
                                              "aketi-torus",
                                              "exponential",
                                              "one-peer-exponential",
                                              "dde-exponential",
                                              "bipartite-exponential",
                                              "random-peers",
                                              "hypercube",
                                              "binary-tree",
                                              "double-binary-tree",
                                              "social",
                                              "petersen",
                                              "dyck",
                                              "erdos-renyi",
                                              "regular",
                                              "edges"};
  return kinds;
}

bool time_varying(const std::string& kind) {
  return kind == "one-peer-exponential" || kind == "dde-exponential" || kind == "bipartite-exponential" ||
         kind == "random-peers";
}

namespace {

common::result<std::unique_ptr<schedule>> make_base_schedule(const graph_spec& a) {
  if (a.kind == "one-peer-exponential") return one_peer_exponential(a.n);
  if (a.kind == "dde-exponential") return dde_exponential(a.n);
  if (a.kind == "bipartite-exponential") return bipartite_exponential(a.n);
  if (a.kind == "random-peers") return random_peers(a.n, a.degree, a.seed);
  auto g = make_graph(a);
  if (!g) return g.err();
  return static_schedule(std::move(*g));
}

}  // namespace

common::result<std::unique_ptr<schedule>> make_schedule(const graph_spec& a) {
  if (a.n < 1) return common::make_error(common::errc::invalid_argument, "a topology needs at least one agent");
  if (a.exact_average_every < 0)
    return common::make_error(common::errc::invalid_argument, "exact_average_every must be >= 0 (0: never)");
  auto s = make_base_schedule(a);
  if (!s || a.exact_average_every == 0) return s;
  return with_exact_average(std::move(*s), a.exact_average_every);
}

}  // namespace murmur::topology
