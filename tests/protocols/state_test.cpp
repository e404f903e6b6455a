// Checkpointed protocol state (issue 11): for every registered algorithm
// (and the variants whose state differs: quasi-global momentum, running
// sums, compression with error feedback), agents restored from the state
// another network saved after some rounds go on exactly as the original
// does. And a state that does not fit is refused with the entry's name.

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "murmur/protocols/registry.hpp"
#include "murmur/protocols/state.hpp"
#include "murmur/topology/schedule.hpp"

using namespace murmur;
using namespace murmur::protocols;
using namespace murmur::testing;

namespace {

constexpr std::int64_t agents = 8, dim = 8, before = 7, after = 6;

struct variant {
  std::string algorithm;
  std::vector<std::pair<std::string, option_value>> options;
  std::string graph_kind;  // a topology kind the algorithm is told ("": its default graph)
};

// The graph each entry runs on: its required schedule, a tree where it needs
// one, an undirected ring otherwise.
std::unique_ptr<topology::schedule> graph_for(const algorithm_entry& e, const std::string& kind) {
  if (kind == "double-binary-tree") return topology::static_schedule(*topology::double_binary_tree(agents));
  if (kind == "exact-average")
    return topology::with_exact_average(topology::static_schedule(*topology::ring(agents)), 3);
  if (e.graph.schedule == "bipartite-exponential") return std::move(*topology::bipartite_exponential(agents));
  if (e.graph.spanning_tree) return topology::static_schedule(*topology::binary_tree(agents));
  return topology::static_schedule(*topology::ring(agents));
}

factory make_of(const algorithm_entry& e, const option_values& values, const std::string& kind = "") {
  return [&e, values, kind](agent_context c) {
    // Momentum and Nesterov where the algorithm has them (its own defaults say where it has none).
    algorithm_inputs in{.context = std::move(c),
                        .optimizer = {.momentum = e.optimizer.momentum.value_or(0.9),
                                      .nesterov = e.optimizer.nesterov.value_or(true),
                                      .weight_decay = 1e-3},
                        .classes = 2,
                        .features = dim};
    in.graph_kind = kind;
    auto a = e.create(std::move(in), values);
    if (!a) FAIL(e.name + ": " + a.err().message);
    return std::move(*a);
  };
}

std::vector<variant> variants() {
  std::vector<variant> out;
  for (const auto& e : algorithms()) out.push_back({e.name, {}});
  out.push_back({"dsgd", {{"momentum", std::string("quasi-global")}}});
  out.push_back({"push-sum", {{"running_sums", true}}});
  out.push_back({"push-sum", {{"compressor", std::string("top-k")}, {"keep", 0.25}}});
  out.push_back({"push-sum", {{"momentum", std::string("quasi-global")}}});
  out.push_back({"dsgd", {{"slowmo_beta", 0.5}}, "exact-average"});
  out.push_back({"relaysum", {}, "double-binary-tree"});
  out.push_back({"relaysum", {{"relay_gradients", true}}, "double-binary-tree"});
  return out;
}

}  // namespace

TEST_CASE("every algorithm restored from its saved state goes on exactly as the original", "[protocols][state]") {
  const auto problem = problem_for(agents);
  for (const auto& v : variants()) {
    const auto* e = find_algorithm(v.algorithm);
    REQUIRE(e != nullptr);
    option_values values;
    for (const auto& [k, x] : v.options) values.set(k, x);
    std::string label = v.algorithm;
    for (const auto& [k, x] : v.options) label += " " + k;
    label += " " + v.graph_kind;
    INFO(label);
    const auto schedule = graph_for(*e, v.graph_kind);
    const auto rule = e->graph.schedule.empty() ? weight_rule::metropolis_hastings : weight_rule::push;
    const auto initial = random_models(agents, dim, 5, 0.5);
    network original(agents, dim, make_of(*e, values, v.graph_kind), initial);
    original.run(*schedule, rule, before, constant(0.02), &problem);

    std::vector<std::vector<float>> now;
    for (std::int64_t i = 0; i < agents; ++i) now.emplace_back(original.params(i).begin(), original.params(i).end());
    network restored(agents, dim, make_of(*e, values, v.graph_kind), now);
    for (std::int64_t i = 0; i < agents; ++i) {
      auto save = state_io::saver();
      original.agent(i).state(save);
      auto load = state_io::loader(save.values());
      restored.agent(i).state(load);
      CHECK(load.error().empty());
      CHECK(load.unused().empty());
    }
    restored.start_at(before);
    original.run(*schedule, rule, after, constant(0.02), &problem);
    restored.run(*schedule, rule, after, constant(0.02), &problem);
    bool moved = false;
    for (std::int64_t i = 0; i < agents; ++i) {
      for (std::int64_t k = 0; k < dim; ++k) {
        CHECK(restored.params(i)[k] == original.params(i)[k]);  // bit for bit
        moved = moved || original.params(i)[k] != now[i][k];
      }
    }
    CHECK(moved);  // the continuation did train
  }
}

TEST_CASE("a saved state that does not fit is refused by entry name", "[protocols][state]") {
  const auto* dsgd = find_algorithm("dsgd");
  const auto* push = find_algorithm("push-sum");
  REQUIRE((dsgd && push));
  const auto problem = problem_for(agents);
  const auto ring = topology::static_schedule(*topology::ring(agents));
  network a(agents, dim, make_of(*push, {}));
  a.run(*ring, weight_rule::metropolis_hastings, 3, constant(0.02), &problem);
  auto save = state_io::saver();
  a.agent(0).state(save);
  REQUIRE_FALSE(save.values().empty());

  // Another algorithm's state: its entries are not asked for.
  network b(agents, dim, make_of(*dsgd, {}));
  auto other = state_io::loader(save.values());
  b.agent(0).state(other);
  CHECK_FALSE(other.unused().empty());

  // A vector of the wrong length: the error names it.
  auto values = save.values();
  std::string shortened;
  for (auto& [name, v] : values)
    if (auto* f = std::get_if<std::vector<float>>(&v); f && f->size() == static_cast<std::size_t>(dim)) {
      f->pop_back();
      shortened = name;
      break;
    }
  REQUIRE_FALSE(shortened.empty());
  network c(agents, dim, make_of(*push, {}));
  auto bad = state_io::loader(values);
  c.agent(0).state(bad);
  CHECK_THAT(bad.error(), Catch::Contains(shortened));
}

TEST_CASE("every built-in algorithm says what a returning agent recovers", "[protocols][state]") {
  for (const auto& e : algorithms()) {
    INFO(e.name);
    CHECK(e.rejoin.size() > 40);
  }
}

namespace {

// Σ_i w_i and Σ_i x_i (the numerators) of a push-sum network, from the agents' state.
std::pair<double, std::vector<double>> mass(network& net) {
  double w = 0;
  std::vector<double> x(dim, 0.0);
  for (std::int64_t i = 0; i < net.size(); ++i) {
    auto io = state_io::saver();
    net.agent(i).state(io);
    w += std::get<std::vector<double>>(io.values().at("w")).at(0);
    const auto& xi = std::get<std::vector<float>>(io.values().at("x"));
    for (std::int64_t k = 0; k < dim; ++k) x[k] += xi[k];
  }
  return {w, x};
}

// Gossip only (push-sum's mass is then invariant): agent 3 saves its state at
// round 4, runs to round 9, crashes, and restarts from the saved state.
std::pair<double, std::vector<double>> mass_after_restore(bool running_sums) {
  const auto* e = find_algorithm("push-sum");
  option_values values;
  values.set("running_sums", running_sums);
  const auto make = make_of(*e, values);
  const auto schedule = topology::random_peers(agents, 2, 5);
  network net(agents, dim, make, random_models(agents, dim, 5));
  const auto none = [](std::int64_t) { return 0.0; };
  net.run(*schedule, weight_rule::push, 4, none, nullptr);
  auto saved = state_io::saver();
  net.agent(3).state(saved);
  const std::vector<float> model(net.params(3).begin(), net.params(3).end());
  net.run(*schedule, weight_rule::push, 5, none, nullptr);
  net.restart(3, make, model, saved.values());
  net.run(*schedule, weight_rule::push, 6, none, nullptr);
  return mass(net);
}

}  // namespace

TEST_CASE("push-sum with running sums conserves mass across a restore from a checkpoint; plain push-sum does not",
          "[protocols][state]") {
  const auto initial = mean_of(random_models(agents, dim, 5));
  const auto [w, x] = mass_after_restore(true);
  CHECK(w == Approx(agents).epsilon(1e-9));
  for (std::int64_t k = 0; k < dim; ++k) CHECK(x[k] == Approx(initial[k] * agents).margin(1e-4));
  const auto [w_plain, x_plain] = mass_after_restore(false);
  CHECK(std::abs(w_plain - agents) > 1e-3);  // the mass sent or received since the checkpoint is lost or doubled
}
