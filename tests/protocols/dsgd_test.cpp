// DSGD, QGM and all-reduce on a distributed least-squares problem, and the
// invariants of ALGORITHMS.md Appendix A.

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "murmur/topology/weights.hpp"

using namespace murmur;
using namespace murmur::protocols;
using namespace murmur::testing;

namespace {

constexpr std::int64_t dim = 8;

}  // namespace

TEST_CASE("DSGD in each step order reaches the least-squares optimum on ring, exponential and social graphs",
          "[protocols][dsgd]") {
  for (auto order : {step_order::parallel, step_order::adapt_then_combine, step_order::combine_then_adapt}) {
    for (auto& gc : undirected_graphs()) {
      const auto n = gc.schedule->size();
      const auto problem = problem_for(n);
      network net(n, dim, [&](agent_context c) {
        return make_dsgd(std::move(c), {.order = order, .sgd = {.momentum = 0.9, .nesterov = true}});
      });
      const std::int64_t rounds = 4000;
      net.run(*gc.schedule, gc.rule, rounds, decay(0.02, rounds), &problem);
      INFO(gc.name << ", order O" << static_cast<int>(order) + 1);
      CHECK(worst_error(net, problem) < inexact);
    }
  }
}

TEST_CASE("quasi-global momentum DSGD reaches the optimum on ring, exponential and social graphs",
          "[protocols][dsgd][qgm]") {
  for (auto& gc : undirected_graphs()) {
    const auto n = gc.schedule->size();
    const auto problem = problem_for(n);
    network net(n, dim, [&](agent_context c) {
      return make_dsgd(std::move(c),
                       {.sgd = {.momentum = 0.9, .nesterov = true}, .momentum = momentum_kind::quasi_global});
    });
    const std::int64_t rounds = 4000;
    net.run(*gc.schedule, gc.rule, rounds, decay(0.02, rounds), &problem);
    INFO(gc.name);
    CHECK(worst_error(net, problem) < inexact);
  }
}

TEST_CASE("all-reduce averages exactly and reaches the optimum at a constant step", "[protocols][dsgd]") {
  const auto problem = problem_for(16);
  // Pure averaging: one round gives every agent the exact mean.
  const auto start = random_models(16, dim, 4);
  network avg(
      16, dim, [](agent_context c) { return make_all_reduce(std::move(c), {}); }, start);
  avg.run(*topology::static_schedule(*topology::ring(16)), weight_rule::metropolis_hastings, 1, constant(0), nullptr);
  for (std::int64_t k = 0; k < dim; ++k) {
    double mean = 0;
    for (const auto& x : start) mean += x[k] / 16.0;
    for (std::int64_t i = 0; i < 16; ++i) CHECK(avg.params(i)[k] == Approx(mean).margin(1e-6));
  }
  network net(16, dim, [](agent_context c) {
    return make_all_reduce(std::move(c), {.sgd = {.momentum = 0.9, .nesterov = true}});
  });
  net.run(*topology::static_schedule(*topology::ring(16)), weight_rule::metropolis_hastings, 1000, constant(0.02),
          &problem);
  CHECK(worst_error(net, problem) < exact);
}

TEST_CASE("DSGD with W = I is local SGD and with W = J/n is all-reduce SGD, step by step", "[protocols][dsgd]") {
  const auto problem = problem_for(8);
  const auto start = random_models(8, dim, 5);
  const dsgd_options options{.sgd = {.momentum = 0.9, .nesterov = true}};
  SECTION("W = I") {
    network net(
        8, dim, [&](agent_context c) { return make_dsgd(std::move(c), options); }, start);
    const topology::graph alone(8, false);
    topology::mixing_matrix identity(8);
    for (int i = 0; i < 8; ++i) identity.at(i, i) = 1;
    // The reference: plain SGD with Nesterov momentum on each agent's own f_i.
    auto x = start;
    std::vector<std::vector<float>> m(8, std::vector<float>(dim, 0.f));
    std::vector<float> g(dim);
    for (std::uint64_t t = 0; t < 50; ++t) {
      net.round(alone, identity, t, 0.01, &problem);
      for (int i = 0; i < 8; ++i) {
        problem.gradient(i, x[i], g);
        for (int k = 0; k < dim; ++k) {
          m[i][k] = 0.9f * m[i][k] + g[k];
          x[i][k] -= static_cast<float>(0.01 * (g[k] + 0.9f * m[i][k]));
        }
      }
    }
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < dim; ++k) CHECK(net.params(i)[k] == x[i][k]);
  }
  SECTION("W = J/n") {
    network dsgd(
        8, dim, [&](agent_context c) { return make_dsgd(std::move(c), options); }, start);
    network reduce(
        8, dim, [&](agent_context c) { return make_all_reduce(std::move(c), options); }, start);
    const auto full = *topology::complete(8);
    const auto w = *weights_for(full, weight_rule::uniform);
    for (std::uint64_t t = 0; t < 50; ++t) {
      dsgd.round(full, w, t, 0.01, &problem);
      reduce.round(full, w, t, 0.01, &problem);
    }
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < dim; ++k) CHECK(dsgd.params(i)[k] == Approx(reduce.params(i)[k]).margin(1e-6));
  }
}

TEST_CASE("QGM with β = 0 is DSGD, and sends the same bytes", "[protocols][dsgd][qgm]") {
  const auto problem = problem_for(16);
  const auto ring = topology::static_schedule(*topology::ring(16));
  network plain(16, dim, [](agent_context c) { return make_dsgd(std::move(c), {.sgd = {}}); });
  network qgm(16, dim, [](agent_context c) {
    return make_dsgd(std::move(c), {.sgd = {}, .momentum = momentum_kind::quasi_global});
  });
  plain.run(*ring, weight_rule::metropolis_hastings, 100, constant(0.02), &problem);
  qgm.run(*ring, weight_rule::metropolis_hastings, 100, constant(0.02), &problem);
  for (int i = 0; i < 16; ++i) {
    for (int k = 0; k < dim; ++k) CHECK(plain.params(i)[k] == qgm.params(i)[k]);
    CHECK(plain.agent(i).counters().bytes_sent == qgm.agent(i).counters().bytes_sent);
  }
}

TEST_CASE("a missing DSGD message renormalises the weights and keeps a convex combination", "[protocols][dsgd]") {
  // Pure averaging with 30% loss: every model stays inside the hull of the
  // initial values, agents still agree, but the agreed value drifts from the mean.
  const auto start = random_models(16, dim, 6);
  network net(
      16, dim, [](agent_context c) { return make_dsgd(std::move(c), {}); }, start);
  net.faults_.drop = 0.3;
  net.run(*topology::static_schedule(*topology::ring(16)), weight_rule::metropolis_hastings, 600, constant(0), nullptr);
  for (std::int64_t k = 0; k < dim; ++k) {
    float lo = start[0][k], hi = start[0][k];
    for (const auto& x : start) lo = std::min(lo, x[k]), hi = std::max(hi, x[k]);
    for (std::int64_t i = 0; i < 16; ++i) {
      CHECK(net.params(i)[k] >= lo - 1e-5f);
      CHECK(net.params(i)[k] <= hi + 1e-5f);
      CHECK(net.params(i)[k] == Approx(net.params(0)[k]).margin(1e-3));
    }
  }
  std::uint64_t missing = 0;
  for (int i = 0; i < 16; ++i) missing += net.agent(i).counters().messages_missing;
  CHECK(missing == net.dropped);
}

TEST_CASE("the averaging-rate schedule grows γ by r per epoch up to 1", "[protocols][dsgd]") {
  const averaging_rate ars{.initial = 0.09, .growth = 1.01};
  CHECK(ars.at(0) == Approx(0.09));
  CHECK(ars.at(10) == Approx(0.09 * std::pow(1.01, 10)));
  CHECK(ars.at(241) < 1.0);
  CHECK(ars.at(242) == 1.0);
  CHECK(ars.at(300) == 1.0);
  // DSGD with a damped consensus step still converges.
  const auto problem = problem_for(16);
  network net(16, dim, [&](agent_context c) {
    return make_dsgd(std::move(c), {.order = step_order::combine_then_adapt,
                                    .sgd = {.momentum = 0.9, .nesterov = true},
                                    .gamma = {.initial = 0.5, .growth = 1.0}});
  });
  net.run(*topology::static_schedule(*topology::ring(16)), weight_rule::metropolis_hastings, 4000, decay(0.02, 4000),
          &problem);
  CHECK(worst_error(net, problem) < inexact);
}
