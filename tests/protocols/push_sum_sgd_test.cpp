// The push-sum family — SGP, OSGP, Sparse-Push, SC-Sparse-Push, QGM over
// push-sum — on directed and time-varying graphs, with plain and running-sum
// mixing (ALGORITHMS.md §2, §3, §8, Appendix A).

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace murmur;
using namespace murmur::protocols;
using namespace murmur::testing;

namespace {

constexpr std::int64_t dim = 8;

// Σ_i x_i (numerators) and Σ_i w_i.
std::pair<std::vector<double>, double> mass(network& net) {
  std::vector<double> x(dim, 0.0);
  double w = 0;
  for (std::int64_t i = 0; i < net.size(); ++i) {
    const auto num = net.agent(i).numerator();
    for (std::int64_t k = 0; k < dim; ++k) x[k] += num[k];
    w += net.agent(i).push_sum_weight();
  }
  return {x, w};
}

double worst_from(const network& net, const std::vector<double>& target) {
  double worst = 0;
  for (std::int64_t i = 0; i < net.size(); ++i)
    for (std::int64_t k = 0; k < dim; ++k) worst = std::max(worst, std::abs(net.params(i)[k] - target[k]));
  return worst;
}

const push_sum_options sgp{.sgd = {.momentum = 0.9, .nesterov = true}};

}  // namespace

TEST_CASE("SGP reaches the least-squares optimum on directed and time-varying graphs", "[protocols][push_sum]") {
  for (bool running : {false, true}) {
    for (auto& gc : directed_graphs()) {
      const auto problem = problem_for(16);
      auto options = sgp;
      options.running_sums = running;
      network net(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); });
      net.run(*gc.schedule, gc.rule, 4000, decay(0.02, 4000), &problem);
      INFO(gc.name << (running ? ", running sums" : ", plain"));
      CHECK(worst_error(net, problem) < inexact);
    }
  }
}

TEST_CASE("push-sum keeps the total mass every round, and w moves on irregular graphs", "[protocols][push_sum]") {
  const auto start = random_models(16, dim, 1, 5);
  const auto initial = mean_of(start);
  network net(
      16, dim, [](agent_context c) { return make_push_sum_sgd(std::move(c), {}); }, start);
  const auto s = topology::random_peers(16, 2, 9);
  double w_spread = 0;
  for (std::int64_t t = 0; t < 60; ++t) {
    const auto g = s->at(t);
    net.round(g, *weights_for(g, weight_rule::push), static_cast<std::uint64_t>(t), 0, nullptr);
    const auto [x, w] = mass(net);
    for (std::int64_t k = 0; k < dim; ++k) CHECK(x[k] == Approx(16 * initial[k]).margin(1e-4));
    CHECK(w == Approx(16.0).epsilon(1e-12));
    for (std::int64_t i = 0; i < 16; ++i) w_spread = std::max(w_spread, std::abs(net.agent(i).push_sum_weight() - 1));
  }
  CHECK(w_spread > 0.1);  // the test exercises the de-biasing
  CHECK(worst_from(net, initial) < 1e-4);
}

TEST_CASE("with 30% message loss running-sum push-sum still reaches the exact mean and plain push-sum does not",
          "[protocols][push_sum]") {
  const auto start = random_models(16, dim, 2, 5);
  const auto initial = mean_of(start);
  double error[2];
  for (bool running : {false, true}) {
    auto options = push_sum_options{};
    options.running_sums = running;
    network net(
        16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); }, start);
    net.faults_ = {.drop = 0.3, .duplicate = 0.1, .seed = 4};
    net.run(*topology::random_peers(16, 2, 3), weight_rule::push, 300, constant(0), nullptr);
    error[running] = worst_from(net, initial);
  }
  INFO("plain " << error[0] << ", running sums " << error[1]);
  CHECK(error[1] < 1e-4);
  CHECK(error[0] > 1e-2);
}

TEST_CASE("duplicated messages change nothing: plain and running-sum push-sum keep the mass and the exact mean",
          "[protocols][push_sum]") {
  const auto start = random_models(16, dim, 2, 6);
  const auto initial = mean_of(start);
  for (bool running : {false, true}) {
    INFO("running sums " << running);
    auto options = push_sum_options{};
    options.running_sums = running;
    network net(
        16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); }, start);
    net.faults_ = {.duplicate = 0.3, .seed = 5};
    net.run(*topology::one_peer_exponential(16), weight_rule::push, 400, constant(0), nullptr);
    CHECK(worst_from(net, initial) < 1e-6);
    const auto [x, w] = mass(net);
    CHECK(w == Approx(16.0).epsilon(1e-12));
    std::uint64_t ignored = 0;
    for (std::int64_t i = 0; i < net.size(); ++i) ignored += net.agent(i).counters().messages_ignored;
    CHECK(ignored > 0);  // the copies arrived and were dropped
  }
}

TEST_CASE("overlap SGP with messages late by up to 2 exchanges converges and conserves mass", "[protocols][push_sum]") {
  // Both send rules: the SGP code's (the model sent before the step, two
  // exchanges a round, so 2 exchanges late is 1 round) and the post-step one.
  for (const bool pre_step : {true, false}) {
    INFO((pre_step ? "pre-step send" : "post-step send"));
    const auto problem = problem_for(16);
    auto options = sgp;
    options.overlap = true;
    options.overlap_pre_step = pre_step;
    options.max_staleness = 3;
    network net(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); });
    net.faults_.max_delay = 2;
    const auto s = topology::one_peer_exponential(16);
    net.run(*s, weight_rule::push, 4000, decay(0.01, 4000), &problem);
    CHECK(worst_error(net, problem) < inexact);
    std::uint64_t stale = 0;
    for (int i = 0; i < 16; ++i) stale = std::max(stale, net.agent(i).counters().staleness_max);
    CHECK(stale == (pre_step ? 1u : 2u));
    // Pure averaging: once the late messages are in, Σ x and Σ w are as at the start.
    const auto start = random_models(16, dim, 3, 5);
    network avg(
        16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); }, start);
    avg.faults_.max_delay = 2;
    avg.run(*s, weight_rule::push, 200, constant(0), nullptr);
    avg.faults_.max_delay = 0;
    avg.run(*s, weight_rule::push, 3, constant(0), nullptr);  // drain what is in flight
    const auto [x, w] = mass(avg);
    const auto initial = mean_of(start);
    for (std::int64_t k = 0; k < dim; ++k) CHECK(x[k] == Approx(16 * initial[k]).margin(1e-4));
    CHECK(w == Approx(16.0).epsilon(1e-12));
    CHECK(worst_from(avg, initial) < 1e-4);
  }
}

TEST_CASE("Sparse-Push with κ = 1 and γ = 1 is SGP bit for bit", "[protocols][push_sum][sparse_push]") {
  const auto problem = problem_for(16);
  auto sparse = sgp;
  sparse.compression = {.kind = compressor_kind::top_k, .keep = 1.0};
  sparse.gamma = 1.0;
  network a(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), sgp); });
  network b(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), sparse); });
  const auto s = topology::random_peers(16, 2, 8);
  a.run(*s, weight_rule::push, 200, constant(0.01), &problem);
  b.run(*s, weight_rule::push, 200, constant(0.01), &problem);
  for (int i = 0; i < 16; ++i)
    for (int k = 0; k < dim; ++k) CHECK(a.params(i)[k] == b.params(i)[k]);
}

TEST_CASE("Sparse-Push conserves mass with any compressor and its average converges on directed time-varying graphs",
          "[protocols][push_sum][sparse_push]") {
  // As reconstructed (§3.1, the Low_Precision_DL code), error feedback acts on
  // the model itself: an unsent entry's memory grows by x_k each round until
  // it is sent, so the local models keep a consensus error that does not
  // shrink with η or γ (here 0.1-0.3 of |x*|). Mass is conserved exactly, so
  // the network average — what the Aketi family evaluates after its final
  // exact average, and what SC-Sparse-Push's dense phase converges to —
  // reaches the optimum. Tolerance on the average: 1e-2.
  const std::vector<std::size_t> tensors{5, 3};
  for (auto kind : {compressor_kind::top_k, compressor_kind::random_k, compressor_kind::sign, compressor_kind::qsgd}) {
    INFO("compressor " << static_cast<int>(kind));
    auto options = sgp;
    options.compression = {.kind = kind, .keep = 0.3, .bits = 4};
    options.gamma = 0.02;
    const auto start = random_models(16, dim, 5, 5);
    network avg(
        16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); }, start, tensors);
    avg.run(*topology::one_peer_exponential(16), weight_rule::push, 50, constant(0), nullptr);
    const auto [x, w] = mass(avg);
    const auto initial = mean_of(start);
    for (std::int64_t k = 0; k < dim; ++k) CHECK(x[k] == Approx(16 * initial[k]).margin(1e-3));
    CHECK(w == Approx(16.0).epsilon(1e-9));
    const auto problem = problem_for(16);
    network net(
        16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); }, {}, tensors);
    net.run(*topology::random_peers(16, 2, 6), weight_rule::push, 6000, decay(0.01, 6000), &problem);
    CHECK(problem.relative_error(net.average()) < 1e-2);
    CHECK(worst_error(net, problem) < 0.5);
  }
}

TEST_CASE("top-k at 1% in Sparse-Push sends exactly the bytes it reports", "[protocols][push_sum][sparse_push]") {
  const std::int64_t d = 200;  // one tensor: 2 entries per message
  push_sum_options options{.compression = {.kind = compressor_kind::top_k, .keep = 0.01}, .gamma = 0.01};
  network net(16, d, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); });
  net.run(*topology::one_peer_exponential(16), weight_rule::push, 20, constant(0), nullptr);
  for (int i = 0; i < 16; ++i) {
    CHECK(net.agent(i).counters().messages_sent == 20);
    CHECK(net.agent(i).counters().bytes_sent == 20 * sparse_frame_bytes(2));
    CHECK(net.agent(i).counters().bytes_received == 20 * sparse_frame_bytes(2));
  }
}

TEST_CASE("SC-Sparse-Push sends compressed until the switch epoch and dense after it",
          "[protocols][push_sum][sparse_push]") {
  auto options = sgp;
  options.compression = {.kind = compressor_kind::top_k, .keep = 0.25};
  options.gamma = 0.2;
  options.switch_epoch = 2;
  const auto problem = problem_for(16);
  network net(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); });
  const auto s = topology::one_peer_exponential(16);
  std::uint64_t before = 0;
  const double rates[] = {0.01, 0.001, 0.001, 0.0001};
  for (std::int64_t epoch = 0; epoch < 4; ++epoch) {
    for (std::int64_t t = 0; t < 1000; ++t) {
      const auto g = s->at(epoch * 1000 + t);
      net.round(g, *weights_for(g, weight_rule::push), static_cast<std::uint64_t>(epoch * 1000 + t), rates[epoch],
                &problem, epoch);
    }
    const auto bytes = net.agent(0).counters().bytes_sent - before;
    before = net.agent(0).counters().bytes_sent;
    // 2 of 8 entries (sparse) before the switch, all 8 dense after it.
    CHECK(bytes == 1000 * (epoch < 2 ? sparse_frame_bytes(2) : dense_frame_bytes(payload_encoding::dense_f32, 8)));
  }
  CHECK(worst_error(net, problem) < inexact);
}

TEST_CASE("on a symmetric regular graph SGP is DSGD and QGM over push-sum is QG-DSGDm", "[protocols][push_sum][qgm]") {
  const auto problem = problem_for(16);
  const auto ring = topology::static_schedule(*topology::ring(16));
  for (auto momentum : {momentum_kind::local, momentum_kind::quasi_global}) {
    const sgd_options sgd{.momentum = 0.9, .nesterov = true};
    network a(16, dim,
              [&](agent_context c) { return make_push_sum_sgd(std::move(c), {.sgd = sgd, .momentum = momentum}); });
    network b(16, dim, [&](agent_context c) { return make_dsgd(std::move(c), {.sgd = sgd, .momentum = momentum}); });
    a.run(*ring, weight_rule::push, 100, constant(0.02), &problem);
    b.run(*ring, weight_rule::push, 100, constant(0.02), &problem);
    for (int i = 0; i < 16; ++i)
      for (int k = 0; k < dim; ++k) CHECK(a.params(i)[k] == Approx(b.params(i)[k]).margin(1e-5));
  }
}

TEST_CASE("quasi-global momentum over push-sum converges on the one-peer exponential graph",
          "[protocols][push_sum][qgm]") {
  // Measured and left as a finding: on the static directed ring QGM over
  // push-sum diverges (β = 0.9, and β = 0.5 after a few thousand rounds, even
  // at η = 0.001): momentum on a gossip matrix whose eigenvalues (1 + e^{iθ})/2
  // approach 1 off the real axis is unstable. On random directed peers it
  // stalls near 5e-3. The time-varying exponential graph, which SGP uses, is fine.
  push_sum_options options{.sgd = {.momentum = 0.9, .nesterov = true}, .momentum = momentum_kind::quasi_global};
  const auto problem = problem_for(16);
  network net(16, dim, [&](agent_context c) { return make_push_sum_sgd(std::move(c), options); });
  net.run(*topology::one_peer_exponential(16), weight_rule::push, 4000, decay(0.01, 4000), &problem);
  CHECK(worst_error(net, problem) < inexact);
}
