// NGM (cross-gradients) and CCL (class-feature exchange): the second
// exchange of each, their invariants, and convergence on least squares.

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace murmur;
using namespace murmur::protocols;
using namespace murmur::testing;

namespace {

constexpr std::int64_t dim = 8;

std::uint64_t sent_of(network& net, std::int64_t i) { return net.agent(i).counters().messages_sent; }

}  // namespace

TEST_CASE("NGM with α = 0 sends no cross-gradients, with α = 1 one per neighbour", "[protocols][ngm]") {
  const auto problem = problem_for(16);
  const auto ring = topology::static_schedule(*topology::ring(16));
  for (double alpha : {0.0, 1.0}) {
    network net(16, dim, [&](agent_context c) { return make_ngm(std::move(c), {.alpha = alpha}); });
    net.run(*ring, weight_rule::metropolis_hastings, 10, constant(0.01), &problem);
    // Models to both neighbours every round, and as many gradients back when α > 0.
    for (int i = 0; i < 16; ++i) CHECK(sent_of(net, i) == (alpha > 0 ? 40u : 20u));
  }
}

TEST_CASE("NGM on a lone agent is SGD", "[protocols][ngm]") {
  const auto problem = problem_for(1);
  const std::vector<std::vector<float>> start{std::vector<float>(dim, 0.5f)};
  network net(
      1, dim, [](agent_context c) { return make_ngm(std::move(c), {.sgd = {.momentum = 0.9}}); }, start);
  const topology::graph alone(1, false);
  topology::mixing_matrix w(1);
  w.at(0, 0) = 1;
  auto x = start[0];
  std::vector<float> m(dim, 0.f), g(dim);
  for (std::uint64_t t = 0; t < 30; ++t) {
    net.round(alone, w, t, 0.05, &problem);
    problem.gradient(0, x, g);
    for (int k = 0; k < dim; ++k) {
      m[k] = 0.9f * m[k] + g[k];
      x[k] -= static_cast<float>(0.05 * m[k]);
    }
  }
  for (int k = 0; k < dim; ++k) CHECK(net.params(0)[k] == Approx(x[k]).margin(1e-6));
}

TEST_CASE("NGM and NGM_mv reach the optimum on ring, exponential and social graphs", "[protocols][ngm]") {
  for (double alpha : {0.0, 1.0}) {
    for (auto& gc : undirected_graphs()) {
      const auto n = gc.schedule->size();
      const auto problem = problem_for(n);
      network net(n, dim, [&](agent_context c) {
        return make_ngm(std::move(c), {.sgd = {.momentum = 0.9, .nesterov = true}, .alpha = alpha, .gamma = 0.5});
      });
      net.run(*gc.schedule, gc.rule, 4000, decay(0.01, 4000), &problem);
      INFO(gc.name << ", α = " << alpha);
      CHECK(worst_error(net, problem) < inexact);
    }
  }
}

TEST_CASE("CompNGM with top-k 1% converges with error feedback and stalls without", "[protocols][ngm]") {
  // 100 unknowns in one tensor: every cross-gradient and the self-gradient
  // travel as 1 entry (16 bytes of payload + header).
  const least_squares problem(16, 100, 64, 0.3, 3);
  const auto ring = topology::static_schedule(*topology::ring(16));
  double error[2];
  for (bool feedback : {false, true}) {
    ngm_options options{.sgd = {}, .alpha = 1.0, .gamma = 1.0};
    options.compression = {.kind = compressor_kind::top_k, .keep = 0.01};
    options.error_feedback = feedback;
    network net(16, 100, [&](agent_context c) { return make_ngm(std::move(c), options); });
    net.run(*ring, weight_rule::metropolis_hastings, 4000, decay(0.05, 4000), &problem);
    error[feedback] = worst_error(net, problem);
    // Per round: 2 dense models and 2 one-entry gradients.
    const auto& c = net.agent(0).counters();
    CHECK(c.bytes_sent == 4000 * 2 * (dense_frame_bytes(payload_encoding::dense_f32, 100) + sparse_frame_bytes(1)));
  }
  INFO("without feedback " << error[0] << ", with " << error[1]);
  CHECK(error[1] < compressed);
  CHECK(error[0] > 0.1);
}

TEST_CASE("CCL builds class prototypes from the own and the received class summaries", "[protocols][ccl]") {
  // 4 agents on a ring, 3 classes, 2 features. The summary agent i makes with
  // agent j's model has sums (i + 1) * (j + 1) * (c + 1) + f and counts i + c
  // (class 2 is absent on agent 0: count and sums 0).
  const std::int64_t classes = 3, features = 2;
  network net(4, dim,
              [&](agent_context c) { return make_ccl(std::move(c), {.classes = classes, .features = features}); });
  net.on_class_summaries = [&](std::int64_t i, algorithm& alg) {
    const auto summary = [&](std::int64_t j) {
      std::vector<float> sums(classes * features), counts(classes);
      for (std::int64_t c = 0; c < classes; ++c) {
        const bool absent = i == 0 && c == 2;
        counts[c] = static_cast<float>(absent ? 0 : i + c);
        for (std::int64_t f = 0; f < features; ++f)
          sums[c * features + f] = absent ? 0.f : static_cast<float>((i + 1) * (j + 1) * (c + 1) + f);
      }
      return std::pair{sums, counts};
    };
    const auto [own_sums, own_counts] = summary(i);
    alg.class_summary(i, own_sums, own_counts);
    for (const auto& [peer, model] : alg.neighbor_models()) {
      const auto [sums, counts] = summary(peer);
      alg.class_summary(peer, sums, counts);
    }
  };
  const auto problem = problem_for(4);
  net.run(*topology::static_schedule(*topology::ring(4)), weight_rule::metropolis_hastings, 1, constant(0.01),
          &problem);
  for (std::int64_t i = 0; i < 4; ++i) {
    const auto p = net.agent(i).prototypes();
    REQUIRE(p.size() == static_cast<std::size_t>(classes * features));
    // Contributions: agent i's own data under its model, and each neighbour
    // j's data under agent i's model.
    std::vector<std::int64_t> sources{i, (i + 1) % 4, (i + 3) % 4};
    for (std::int64_t c = 0; c < classes; ++c) {
      for (std::int64_t f = 0; f < features; ++f) {
        double sum = 0, count = 0;
        for (auto a : sources) {
          if (a == 0 && c == 2) continue;
          sum += static_cast<double>((a + 1) * (i + 1) * (c + 1) + f);
          count += static_cast<double>(a + c);
        }
        INFO("agent " << i << " class " << c << " feature " << f);
        CHECK(p[c * features + f] == Approx(count > 0 ? sum / count : 0.0).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("CCL's gossip with quasi-global momentum reaches the optimum", "[protocols][ccl]") {
  // Without the runtime's loss term CCL is DSGD (O3) with QGM plus the
  // summary exchange: the code's heavy ball with the gossip folded in, and
  // the epfml EMA form. The heavy ball turns the consensus step into
  // (1 + β)(W - I): on the social graph (MH, eigenvalues down to about -0.5)
  // it diverges, so it runs on the ring and the exponential graph only.
  for (const bool heavy_ball : {true, false})
    for (auto& gc : undirected_graphs()) {
      if (heavy_ball && std::string(gc.name) == "social") continue;
      const auto n = gc.schedule->size();
      const auto problem = problem_for(n);
      network net(n, dim, [&](agent_context c) {
        return make_ccl(
            std::move(c),
            {.sgd = {.momentum = 0.9, .nesterov = true}, .classes = 2, .features = 1, .heavy_ball = heavy_ball});
      });
      net.on_class_summaries = [](std::int64_t i, algorithm& alg) {
        const std::vector<float> sums{1, 2}, counts{1, 1};
        alg.class_summary(i, sums, counts);
        for (const auto& [peer, model] : alg.neighbor_models()) alg.class_summary(peer, sums, counts);
      };
      net.run(*gc.schedule, gc.rule, 4000, decay(0.02, 4000), &problem);
      INFO(gc.name << (heavy_ball ? ", heavy ball" : ", EMA"));
      CHECK(worst_error(net, problem) < inexact);
    }
}
