// DSGD / D-PSGD with local or quasi-global momentum in the three step orders
// (ALGORITHMS.md §1, §5), and exact all-reduce averaging as a DSGD whose plan
// is the complete graph.

#include <cassert>
#include <optional>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class dsgd : public algorithm {
 public:
  dsgd(agent_context context, dsgd_options options)
      : algorithm(std::move(context)), options_(options), sgd_(options.sgd, params().size()), d_(params().size(), 0.f) {
    if (options_.momentum == momentum_kind::quasi_global)
      qgm_.emplace(options.sgd, options.qgm.mu, options.qgm.period, params().size());
    if (options_.slowmo.beta != 0 || options_.slowmo.alpha != 1) {
      slow_.assign(params().begin(), params().end());
      slow_buffer_.assign(params().size(), 0.f);
    }
  }

  std::string name() const override { return "dsgd"; }

 protected:
  std::vector<request> plan_steps() override {
    const request exchange{.kind = step_kind::exchange, .messages = message_kind::model, .from = in_peers()};
    const request gradient{.kind = step_kind::gradient};
    if (qgm_) {  // QGM's buffer follows the round's total update
      auto x = params();
      x_start_.assign(x.begin(), x.end());
    }
    if (plan().gossip_only) return {exchange};
    if (options_.order == step_order::combine_then_adapt) return {exchange, gradient};
    return {gradient, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    const auto body = std::make_shared<const payload>(dense_payload(params(), options_.wire));
    for (const auto& [peer, weight] : plan().out) send(peer, message_kind::model, body);
  }

  void on_finish(const request& r) override {
    auto x = params();
    const double lr = plan().learning_rate;
    if (r.kind == step_kind::gradient) {
      direction();
      // O1 applies the step after mixing; O2 and O3 now.
      if (options_.order != step_order::parallel) step(lr);
      if (options_.order == step_order::combine_then_adapt) end_round();
      return;
    }
    const auto got = detail::collect(inbox_, plan(), options_.accept_stale, stats());
    // A round of exact averaging (the complete graph, weights 1/n) averages
    // whatever γ, then takes SlowMo's outer step.
    detail::mix(x, plan().self_weight, got, plan().exact_average ? 1.0 : options_.gamma.at(plan().epoch));
    if (plan().exact_average) slow_step(lr);
    if (options_.order == step_order::parallel && !plan().gossip_only) step(lr);
    if (options_.order != step_order::combine_then_adapt || plan().gossip_only) end_round();
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::model || message.body.dimension != params().size() ||
        !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    if (qgm_) qgm_->state(io, "qgm");
    if (!slow_.empty()) {
      io.field("slowmo.params", slow_, true);
      io.field("slowmo.buffer", slow_buffer_, true);
    }
  }

 private:
  // SlowMo after the exact average x̄ (the QGM code's decentralized_sgd.py,
  // step()): u <- β u + (x_slow - x̄) / η, x_slow <- x_slow - α η u, x <- x_slow.
  // β = 0, α = 1 (the defaults) leave x = x̄: plain periodic exact averaging.
  void slow_step(double lr) {
    if (slow_.empty()) return;
    auto x = params();
    const double beta = options_.slowmo.beta, alpha = options_.slowmo.alpha;
    for (std::size_t i = 0; i < x.size(); ++i) {
      slow_buffer_[i] = static_cast<float>(beta * slow_buffer_[i] + (slow_[i] - x[i]) / lr);
      slow_[i] = static_cast<float>(slow_[i] - alpha * lr * slow_buffer_[i]);
      x[i] = slow_[i];
    }
  }

  void direction() {
    if (qgm_)
      qgm_->direction(params(), grads(), d_);
    else
      sgd_.direction(params(), grads(), d_);
  }

  void step(double lr) {
    auto x = params();
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(lr * d_[i]);
  }

  void end_round() {
    if (qgm_ && !plan().gossip_only) qgm_->round_end(x_start_, params(), plan().learning_rate);
  }

  dsgd_options options_;
  local_sgd sgd_;
  std::optional<detail::quasi_global_momentum> qgm_;
  std::vector<float> d_, x_start_, slow_, slow_buffer_;
  detail::inbox inbox_;
};

class all_reduce final : public dsgd {
 public:
  using dsgd::dsgd;
  std::string name() const override { return "all_reduce"; }

 protected:
  std::vector<request> plan_steps() override {
    auto& p = mutable_plan();
    const double w = 1.0 / static_cast<double>(p.agents);
    p.in.clear();
    p.out.clear();
    for (std::int64_t j = 0; j < p.agents; ++j) {
      if (j == self()) continue;
      p.in.push_back({j, w});
      p.out.push_back({j, w});
    }
    p.self_weight = w;
    return dsgd::plan_steps();
  }
};

}  // namespace

std::unique_ptr<algorithm> make_dsgd(agent_context context, dsgd_options options) {
  return std::make_unique<dsgd>(std::move(context), options);
}

std::unique_ptr<algorithm> make_all_reduce(agent_context context, dsgd_options options) {
  options.gamma = {};
  return std::make_unique<all_reduce>(std::move(context), options);
}

namespace {

std::vector<option_spec> dsgd_option_specs(bool with_gamma) {
  std::vector<option_spec> o{{.name = "order",
                              .default_value = std::string("adapt-then-combine"),
                              .help = "step order (O1, O2, O3 of ALGORITHMS.md §0.2)",
                              .choices = common::names_list<step_order>()},
                             momentum_option()};
  for (auto& q : qgm_option_specs()) o.push_back(std::move(q));
  if (with_gamma) {
    o.push_back(gamma_option(1.0));
    o.push_back({.name = "gamma_growth",
                 .default_value = 1.0,
                 .help = "averaging-rate schedule: γ_e = min(1, γ·growth^epoch)",
                 .lo = 1,
                 .hi = 10});
  }
  if (with_gamma) {
    o.push_back({.name = "slowmo_beta",
                 .default_value = 0.0,
                 .help = "SlowMo on the rounds of topology.exact_average_every: slow momentum β (0 with alpha 1: plain "
                         "periodic exact averaging; the QGM code's slowmo_beta)",
                 .lo = 0,
                 .hi = 1});
    o.push_back({.name = "slowmo_alpha",
                 .default_value = 1.0,
                 .help = "SlowMo: slow learning-rate factor α (the QGM code's slowmo_alpha)",
                 .lo = 0,
                 .hi = 100});
  }
  o.push_back({.name = "wire",
               .default_value = std::string("f32"),
               .help = "model payload",
               .choices = {"f32", "bf16", "f16"}});
  return o;
}

dsgd_options read_dsgd(const algorithm_inputs& in, const option_reader& o, bool with_gamma) {
  dsgd_options d;
  d.sgd = in.optimizer;
  d.order = o.choice<step_order>("order");
  d.momentum = o.choice<momentum_kind>("momentum");
  d.qgm = {.mu = o.number("qgm_mu"), .period = o.integer("qgm_period")};
  if (with_gamma) {
    d.gamma = {.initial = o.number("gamma"), .growth = o.number("gamma_growth")};
    d.slowmo = {.beta = o.number("slowmo_beta"), .alpha = o.number("slowmo_alpha")};
  }
  const auto& wire = o.text("wire");
  d.wire = wire == "bf16"  ? payload_encoding::dense_bf16
           : wire == "f16" ? payload_encoding::dense_f16
                           : payload_encoding::dense_f32;
  d.accept_stale = in.asynchronous;
  return d;
}

}  // namespace

algorithm_entry dsgd_entry() {
  return {
      .name = "dsgd",
      .summary = "D-PSGD / DSGDm (Lian et al. 2017): local step and gossip averaging, local or quasi-global momentum",
      .rejoin =
          "whole models are sent every round: a restarted agent (model, momentum, QGM buffer from its checkpoint, or "
          "x^0 without one) jumps to the others' round and gossip pulls it back to its neighbours",
      .options = dsgd_option_specs(true),
      .graph = {.exact_rounds = true},
      .make = [](algorithm_inputs in, const option_reader& o) {
        auto d = read_dsgd(in, o, true);
        return make_dsgd(std::move(in.context), d);
      }};
}

algorithm_entry all_reduce_entry() {
  return {.name = "all-reduce",
          .summary = "exact averaging over all agents every round (the centralized reference)",
          .rejoin = "exact averaging of the whole models every round: a restarted agent is in the next average",
          .options = dsgd_option_specs(false),
          .make = [](algorithm_inputs in, const option_reader& o) {
            auto d = read_dsgd(in, o, false);
            return make_all_reduce(std::move(in.context), d);
          }};
}

}  // namespace murmur::protocols
