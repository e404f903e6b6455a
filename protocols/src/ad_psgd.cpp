// AD-PSGD (ALGORITHMS.md §7.3): after its local step an active agent sends its
// model to this round's passive peer; the passive agent replies with its own
// model and both end at the pair's average (each keeping any progress it
// made since). Passive agents serve requests whenever they arrive.

#include <optional>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class ad_psgd final : public algorithm {
 public:
  ad_psgd(agent_context context, ad_psgd_options options)
      : algorithm(std::move(context)), sgd_(options.sgd, params().size()), d_(params().size(), 0.f) {}

  std::string name() const override { return "ad_psgd"; }

 protected:
  std::vector<request> plan_steps() override {
    // The active side awaits the reply (kind update); the passive side awaits nothing.
    request exchange{.kind = step_kind::exchange, .messages = message_kind::update, .wait = !plan().out.empty()};
    if (!plan().out.empty()) exchange.from = {plan().out.front().peer};
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange || plan().out.empty()) return;
    const auto x = params();
    pending_.emplace(pending{plan().out.front().peer, plan().round, {x.begin(), x.end()}});
    send(pending_->peer, message_kind::model, dense_payload(x));
  }

  void on_finish(const request& r) override {
    if (r.kind == step_kind::gradient) {
      auto x = params();
      sgd_.direction(x, grads(), d_);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(plan().learning_rate * d_[i]);
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
  struct pending {
    std::int64_t peer;
    std::uint64_t round;
    std::vector<float> sent;
  };

  local_sgd sgd_;
  std::vector<float> d_;
  std::optional<pending> pending_;
};

}  // namespace

std::unique_ptr<algorithm> make_ad_psgd(agent_context context, ad_psgd_options options) {
  return std::make_unique<ad_psgd>(std::move(context), options);
}

algorithm_entry ad_psgd_entry() {
  return {.name = "ad-psgd",
          .summary = "AD-PSGD (Lian et al. 2018): pairwise averaging on the bipartite exponential graph",
          .rejoin =
              "whole models are averaged pairwise, so a restarted agent (its checkpointed model and momentum) is back "
              "in the average at its next exchange; a partner that is down is skipped as a lost exchange",
          .graph = {.schedule = "bipartite-exponential"},
          .make = optimizer_only(make_ad_psgd)};
}

}  // namespace murmur::protocols
