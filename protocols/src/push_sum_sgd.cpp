// SGP, OSGP, Sparse-Push, SC-Sparse-Push and QGM over push-sum (ALGORITHMS.md
// §2, §3), with plain or running-sum mixing (§8.2).
//
// One combine rule covers all of them: with c the vector sent (x itself, or
// C(x + e) with error feedback), the sender keeps x + γ (p_ii - 1) c and
// w + γ (p_ii - 1) w, each out-peer j receives p_j c and p_j w, and the
// receiver adds γ times what it receives. κ = 1, γ = 1 is SGP. Σ x and Σ w
// (plus what is in flight) are conserved by every exchange.

#include <cassert>
#include <map>
#include <optional>
#include <set>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class push_sum_sgd final : public detail::with_sgd<push_sum_options> {
 public:
  push_sum_sgd(agent_context context, push_sum_options options)
      : with_sgd(std::move(context), options),
        compress_(options.compression, {tensor_sizes().begin(), tensor_sizes().end()}),
        x_(params().begin(), params().end()),
        feedback_(params().size()),
        d_(params().size(), 0.f) {
    if (options_.momentum == momentum_kind::quasi_global) {
      m_.assign(params().size(), 0.f);
      x_after_step_ = x_;
    }
  }

  std::string name() const override { return "push_sum_sgd"; }
  std::span<const float> numerator() const override { return x_; }
  double push_sum_weight() const override { return w_; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    // OSGP waits at the round's end for its messages when τ = 0 (every round,
    // the SGP code's synch_freq = 0) or after τ > 0 rounds in a row brought
    // nothing; τ = -1 never waits.
    exchanges_ = 0;
    const auto tau = options_.max_staleness;
    exchange.wait = !options_.overlap || tau == 0 || (tau > 0 && quiet_rounds_ >= tau);
    if (!deferring()) {
      if (plan().gossip_only) return {exchange};
      return {{.kind = step_kind::gradient}, exchange};
    }
    // The SGP code's OSGP: send the model before the step (transfer_params in
    // the forward pre-hook), compute the step while the shares travel, and
    // add what arrived at the round's end (_query_gossip_queue at the next
    // step's start).
    const request send_first{.kind = step_kind::exchange, .messages = message_kind::model, .wait = false};
    if (plan().gossip_only) return {send_first, exchange};
    return {send_first, {.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    if (deferring() && exchanges_ > 0) return;  // OSGP's round end: nothing to send
    heard_ = false;
    const bool compressed = compressing();
    const double gamma = compressed ? options_.gamma : 1.0;
    payload c = !compressed               ? dense_payload(x_)
                : options_.error_feedback ? feedback_(x_, compress_, gen())
                                          : compress_(x_, gen());
    // Keep x + γ (p_ii - 1) c, w + γ (p_ii - 1) w.
    const double keep = gamma * (plan().self_weight - 1.0);
    add(c, keep);
    const double w = w_;
    w_ += keep * w;
    for (const auto& [peer, share] : plan().out) {
      if (options_.running_sums) {
        auto& sum = sent_[peer];
        sum.resize(x_.size(), 0.0);
        c.add_to(std::span<double>(sum), share);
        sent_weight_[peer] += share * w;
        send(peer, message_kind::model, wide_payload(sum), sent_weight_[peer]);
      } else {
        payload shared = c;
        shared.scale(share);
        send(peer, message_kind::model, std::move(shared), share * w);
      }
    }
  }

  void on_finish(const request& r) override {
    if (r.kind == step_kind::gradient) {
      local_step();
    } else if (!deferring() || exchanges_++ > 0) {  // (OSGP's first exchange only sends)
      stats().messages_missing += waiting_for().size();
      quiet_rounds_ = heard_ ? 0 : quiet_rounds_ + 1;
      if (deferring()) apply_pending();
    }
    debias();
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::model || message.body.dimension != x_.size() ||
        !(message.header.push_sum_weight >= 0)) {
      ++stats().messages_ignored;
      return;
    }
    const auto sender = static_cast<std::int64_t>(message.header.sender);
    if (!options_.running_sums && message.header.round + dedup_window < plan().round) {
      ++stats().messages_stale;  // too old to tell from a duplicate
      return;
    }
    // Running sums: only a newer cumulative sum counts (reordered ones add
    // nothing); plain: each share once per (sender, round), which the base's
    // duplicate rule ensures.
    auto& last = last_sequence_[sender];
    if (options_.running_sums && message.header.sequence <= last) {
      ++stats().messages_ignored;
      return;
    }
    last = std::max(last, message.header.sequence);
    const double gamma = compressing() ? options_.gamma : 1.0;
    heard_ = true;
    used_message_of(message.header.round);
    const auto round = message.header.round;
    if (options_.running_sums) {
      auto& seen = received_[sender];
      seen.resize(x_.size(), 0.0);
      std::vector<double> delta(message.body.wide);
      for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= seen[i];
      seen = std::move(message.body.wide);
      receive_mass(round, wide_payload(delta), gamma,
                   gamma * (message.header.push_sum_weight - received_weight_[sender]));
      received_weight_[sender] = message.header.push_sum_weight;
    } else {
      receive_mass(round, message.body, gamma, gamma * message.header.push_sum_weight);
    }
    debias();
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    feedback_.state(io, "error_feedback");
    io.field("x", x_);
    io.field("w", w_);
    io.field("qgm_buffer", m_);
    io.field("x_after_step", x_after_step_);
    io.field("w_after_step", w_after_step_);
    io.field("last_lr", last_lr_);
    io.field("sent", sent_);
    io.field("received", received_);
    io.field("sent_weight", sent_weight_);
    io.field("received_weight", received_weight_);
    io.field("last_sequence", last_sequence_);
    io.field("quiet_rounds", quiet_rounds_);
    // OSGP: shares of later rounds that arrived before the checkpoint.
    std::map<std::int64_t, std::vector<double>> px, pw;
    if (io.saving())
      for (const auto& [round, s] : pending_) {
        px[static_cast<std::int64_t>(round)] = s.x;
        pw[static_cast<std::int64_t>(round)] = {s.w};
      }
    io.field("pending_x", px);
    io.field("pending_w", pw);
    if (!io.saving()) {
      pending_.clear();
      for (const auto& [round, x] : px) {
        const auto w = pw.find(round);
        if (round < 0 || w == pw.end() || w->second.size() != 1 || x.size() != x_.size()) continue;
        pending_[static_cast<std::uint64_t>(round)] = {x, w->second[0]};
      }
    }
    if (!io.saving()) debias();
  }

 private:
  // The SGP code's OSGP order (overlap with the pre-step send).
  bool deferring() const { return options_.overlap && options_.overlap_pre_step; }

  // A share of mass: added now, or (OSGP) kept until the end of its round.
  void receive_mass(std::uint64_t round, const payload& p, double factor, double weight) {
    if (!deferring()) {
      add(p, factor);
      w_ += weight;
      return;
    }
    auto& d = pending_[round];
    d.x.resize(x_.size(), 0.0);
    p.add_to(std::span<double>(d.x), factor);
    d.w += weight;
  }

  // OSGP at a round's end: the shares of this round and earlier ones.
  void apply_pending() {
    const auto end = pending_.upper_bound(plan().round);
    for (auto it = pending_.begin(); it != end; ++it) {
      for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = static_cast<float>(x_[i] + it->second.x[i]);
      w_ += it->second.w;
    }
    pending_.erase(pending_.begin(), end);
  }

  bool compressing() const {
    return !compress_.identity() && (options_.switch_epoch < 0 || plan().epoch < options_.switch_epoch);
  }

  void add(const payload& p, double factor) { p.add_to(std::span<float>(x_), factor); }

  void local_step() {
    const double lr = plan().learning_rate;
    const auto g = grads();
    if (m_.empty()) {
      sgd_.direction(x_, g, d_);  // weight decay sees the numerator, as in the SGP code
    } else {
      // The Low_Precision_DL code's order: fold the gossip change since the
      // last step into m as (β - 1)/η times the model change, then
      // d = g' + β (β m + g'), m <- β m + (1 - β) d. The code measures the
      // model change as Δx / w (numerator change over the current weight);
      // `qgm_debiased` measures it as Δ(x / w), which stays right when w moves.
      const double beta = options_.sgd.momentum, wd = options_.sgd.weight_decay;
      if (last_lr_ > 0) {
        const double f = (beta - 1.0) / last_lr_;
        for (std::size_t i = 0; i < m_.size(); ++i) {
          const double change =
              options_.qgm_debiased ? x_[i] / w_ - x_after_step_[i] / w_after_step_ : (x_[i] - x_after_step_[i]) / w_;
          m_[i] += static_cast<float>(f * change);
        }
      }
      const auto b = static_cast<float>(beta);
      for (std::size_t i = 0; i < m_.size(); ++i) {
        const float gi = g[i] + static_cast<float>(wd) * x_[i];
        d_[i] = gi + b * (b * m_[i] + gi);
        m_[i] = b * m_[i] + (1.f - b) * d_[i];
      }
    }
    // The SGP code applies η d to the numerator, so z = x / w moves by η d / w:
    // a weight shrunk by late or lost messages amplifies the step (and can
    // diverge). scale_step_by_weight applies η w d, moving z by η d.
    const double step = options_.scale_step_by_weight ? lr * w_ : lr;
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] -= static_cast<float>(step * d_[i]);
    last_lr_ = lr;
    if (!m_.empty()) {
      x_after_step_ = x_;
      w_after_step_ = w_;
    }
  }

  void debias() {
    auto z = params();
    const double inv = 1.0 / w_;
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(x_[i] * inv);
  }

  compressor compress_;
  std::vector<float> x_;
  double w_ = 1.0;
  error_feedback feedback_;
  std::vector<float> d_, m_, x_after_step_;
  double w_after_step_ = 1.0, last_lr_ = 0;
  // Running sums: cumulative mass pushed per out-peer, last seen per in-peer.
  std::map<std::int64_t, std::vector<double>> sent_, received_;
  std::map<std::int64_t, double> sent_weight_, received_weight_;
  std::map<std::int64_t, std::uint64_t> last_sequence_;
  bool heard_ = false;
  std::int64_t quiet_rounds_ = 0;
  struct share {
    std::vector<double> x;
    double w = 0;
  };
  std::map<std::uint64_t, share> pending_;  // OSGP: received, by round, added at that round's end
  int exchanges_ = 0;                       // exchanges of this round finished (OSGP: send, then wait)
};

}  // namespace

std::unique_ptr<algorithm> make_push_sum_sgd(agent_context context, push_sum_options options) {
  return std::make_unique<push_sum_sgd>(std::move(context), options);
}

algorithm_entry push_sum_entry() {
  std::vector<option_spec> o{
      momentum_option("local or quasi-global momentum (QGM over push-sum: β is the optimizer's momentum)"),
      {.name = "qgm_debiased",
       .default_value = true,
       .help = "QGM: measure the model change as Δ(x/w) (false: the code's Δx/w)"},
      {.name = "scale_step_by_weight",
       .default_value = true,
       .help = "apply η·w·d to the numerator, so the de-biased model moves by η·d whatever w (false: the SGP "
               "code's η·d, which moves it by η·d/w); the same on the paper's regular graphs, where w stays 1"},
      {.name = "running_sums", .default_value = false, .help = "loss-robust running-sum mixing (ALGORITHMS.md §8.2)"},
      {.name = "overlap", .default_value = false, .help = "OSGP: compute the step while the shares travel"},
      {.name = "overlap_send",
       .default_value = std::string("pre-step"),
       .help = "OSGP: send the model before the step and add the shares at the round's end (the SGP code: "
               "transfer_params in the forward pre-hook) | post-step: send the stepped model, add shares "
               "as they come",
       .choices = {"pre-step", "post-step"}},
      {.name = "max_staleness",
       .default_value = std::int64_t{0},
       .help = "overlap: wait at the round's end for its messages every round (0, the SGP code's synch_freq = 0), "
               "after this many rounds without a message (> 0), or never (-1)",
       .lo = -1,
       .hi = 1e6}};
  for (auto& c : compressor_options_of("none")) o.push_back(std::move(c));
  o.push_back({.name = "error_feedback", .default_value = true, .help = "error feedback around the compressor"});
  o.push_back(gamma_option(1.0, "consensus step γ (compressed phase)"));
  o.push_back({.name = "switch_epoch",
               .default_value = std::int64_t{-1},
               .help = "SC-Sparse-Push: dense from this epoch on (-1: never)",
               .lo = -1,
               .hi = 1e6});
  return {.name = "push-sum",
          .summary =
              "SGP / OSGP / Sparse-Push / SC-Sparse-Push (Assran et al. 2019, Aketi et al. 2021): push-sum SGD "
              "over column-stochastic weights",
          .rejoin =
              "restores the numerator x, the weight w, momentum, error-feedback memory and the running sums: "
              "with running_sums = true the restore conserves mass exactly (receivers subtract what it sent "
              "after its checkpoint, it re-adds what it was sent since); plain push-sum loses the mass in "
              "flight while it was down and since its checkpoint, which de-biasing by w keeps out of its model",
          .options = std::move(o),
          .graph = {.exact_rounds = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            push_sum_options p{.sgd = in.optimizer,
                               .momentum = r.choice<momentum_kind>("momentum"),
                               .qgm_debiased = r.boolean("qgm_debiased"),
                               .scale_step_by_weight = r.boolean("scale_step_by_weight"),
                               .running_sums = r.boolean("running_sums"),
                               .overlap = r.boolean("overlap"),
                               .overlap_pre_step = r.text("overlap_send") == "pre-step",
                               .max_staleness = r.integer("max_staleness"),
                               .compression = read_compressor(r),
                               .error_feedback = r.boolean("error_feedback"),
                               .gamma = r.number("gamma"),
                               .switch_epoch = r.integer("switch_epoch")};
            return make_push_sum_sgd(std::move(in.context), p);
          }};
}

}  // namespace murmur::protocols
