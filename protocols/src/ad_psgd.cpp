// AD-PSGD (ALGORITHMS.md §7.3) on the bipartite exponential graph, in one of
// two exchanges:
// - pairwise (the AD-PSGD paper, Lian et al. 2018, Algorithm 1): after its
//   local step an active (odd) agent sends its model to this round's passive
//   peer; the passive agent replies with its own model and both end at the
//   pair's average (each keeping any progress it made since). Passive agents
//   serve requests whenever they arrive.
// - push-pull (the SGP code's AD-PSGD baseline, facebookresearch/
//   stochastic_gradient_push, gossip/gossiper.py BilatPushPull with
//   gossip/ad_psgd.py's gossip process): every agent sends its model to its
//   out-peer i + h and averages with what its in-peer i - h sent,
//   x <- (x + x_in) / 2; a directed cycle each round, doubly stochastic.
// The SGP code's gossip process mixes on every pass of its loop, so several
// times between two gradient steps when communication is faster than
// compute; each mix takes the phone book's next hop. In murmur that count
// is named, topology.mixes_per_step = M: the step's round and M - 1
// gossip-only rounds (plan().gossip_only: the exchange alone), each on the
// next graph of the schedule. The default, 1, is the paper's Algorithm 1
// (one atomic average per gradient step); the code's count depends on the
// machine's timing and is not recorded in its logs.

#include <optional>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class ad_psgd final : public algorithm {
 public:
  ad_psgd(agent_context context, ad_psgd_options options)
      : algorithm(std::move(context)),
        push_pull_(options.push_pull),
        sgd_(options.sgd, params().size()),
        d_(params().size(), 0.f) {}

  std::string name() const override { return "ad_psgd"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    if (push_pull_) {
      exchange.from = in_peers();
    } else {
      // The active side awaits the reply (kind update), the passive side its
      // active in-peer's request (so in async mode a passive agent does not
      // run ahead of the actives it serves beyond the staleness bound).
      if (active()) {
        // Algorithm 1's average is atomic: the active side waits for the
        // reply in async mode too (request::reply).
        exchange.messages = message_kind::update;
        exchange.reply = true;
        exchange.from = {plan().out.front().peer};
      } else {
        exchange.from = in_peers();
      }
    }
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    const auto x = params();
    if (push_pull_) {
      const auto body = std::make_shared<const payload>(dense_payload(x));
      for (const auto& pw : plan().out) send(pw.peer, message_kind::model, body);
      return;
    }
    if (!active()) return;
    pending_.emplace(pending{plan().out.front().peer, plan().round, {x.begin(), x.end()}});
    send(pending_->peer, message_kind::model, dense_payload(x));
  }

  void on_finish(const request& r) override {
    auto x = params();
    if (r.kind == step_kind::gradient) {
      sgd_.direction(x, grads(), d_);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(plan().learning_rate * d_[i]);
      return;
    }
    if (push_pull_) {
      // x <- (x + x_in) / 2 (the gossip process: p.add_(g).mul_(0.5)); none in: no average.
      for (auto& f : detail::collect(inbox_, plan(), false, stats()).messages) {
        const auto other = f.body.dense();
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * (x[i] + other[i]);
      }
      return;
    }
    if (pending_) {
      ++stats().messages_missing;  // no reply: this side does not average
      pending_.reset();
    }
  }

  void on_message(frame message) override {
    auto x = params();
    if (message.body.dimension != x.size()) {
      ++stats().messages_ignored;
      return;
    }
    if (push_pull_) {
      if (message.header.kind != message_kind::model || !inbox_.put(std::move(message))) ++stats().messages_ignored;
      return;
    }
    const auto sender = static_cast<std::int64_t>(message.header.sender);
    if (message.header.kind == message_kind::model) {
      // A request: reply with the model before averaging, then average.
      send(sender, message_kind::update, dense_payload(x), 1.0, message.header.round);
      const auto other = message.body.dense();
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * (x[i] + other[i]);
      used_message_of(message.header.round);
      return;
    }
    if (message.header.kind == message_kind::update && pending_ && pending_->peer == sender &&
        pending_->round == message.header.round) {
      // x <- (x_sent + x_peer) / 2 + (x - x_sent)
      const auto other = message.body.dense();
      for (std::size_t i = 0; i < x.size(); ++i) x[i] += 0.5f * (other[i] - pending_->sent[i]);
      pending_.reset();
      return;
    }
    ++stats().messages_ignored;
  }

  void on_state(state_io& io) override { sgd_.state(io, "momentum"); }

 private:
  // Odd agents are active (the SGP code's is_passive: rank % 2 == 0).
  bool active() const { return self() % 2 == 1 && !plan().out.empty(); }

  struct pending {
    std::int64_t peer;
    std::uint64_t round;
    std::vector<float> sent;
  };

  bool push_pull_;
  local_sgd sgd_;
  std::vector<float> d_;
  std::optional<pending> pending_;
  detail::inbox inbox_;
};

}  // namespace

std::unique_ptr<algorithm> make_ad_psgd(agent_context context, ad_psgd_options options) {
  return std::make_unique<ad_psgd>(std::move(context), options);
}

algorithm_entry ad_psgd_entry() {
  return {.name = "ad-psgd",
          .summary =
              "AD-PSGD (Lian et al. 2018): pairwise averaging on the bipartite exponential graph; the SGP "
              "code's repeated mixing between steps is topology.mixes_per_step (default 1: the paper's one "
              "average per step)",
          .rejoin =
              "whole models are averaged (pairwise, or with the in-peer), so a restarted agent (its checkpointed "
              "model and momentum) is back in the average at its next exchange; a partner that is down is skipped as "
              "a lost exchange",
          .options = {{.name = "exchange",
                       .default_value = std::string("pairwise"),
                       .help = "pairwise: an active agent and its passive peer both end at their average (the AD-PSGD "
                               "paper's atomic averaging, Algorithm 1) | push-pull: every agent averages with its "
                               "in-peer i - h and sends to i + h (the SGP code's AD-PSGD baseline, BilatPushPull)",
                       .choices = {"pairwise", "push-pull"}}},
          .graph = {.schedule = "bipartite-exponential"},
          .make = [](algorithm_inputs in, const option_reader& r) {
            return make_ad_psgd(std::move(in.context),
                                {.sgd = in.optimizer, .push_pull = r.text("exchange") == "push-pull"});
          }};
}

}  // namespace murmur::protocols
