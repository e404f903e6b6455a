// RelaySum/Model and RelaySum/Grad (ALGORITHMS.md §7.1) on a spanning tree:
// each agent relays to each tree neighbour its own value plus what the other
// neighbours relayed to it last round, with a count of the agents summed, so
// after `diameter` rounds every agent holds an exact uniform average of
// (delayed) values. Missing parts are filled with the reference state.

#include <map>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class relaysum final : public detail::with_sgd<relaysum_options> {
 public:
  relaysum(agent_context context, relaysum_options options)
      : with_sgd(std::move(context), options),
        own_(params().size(), 0.f),
        reference_(params().begin(), params().end()),
        d_(params().size(), 0.f) {
    if (options_.relay_gradients) std::fill(reference_.begin(), reference_.end(), 0.f);
  }

  std::string name() const override { return "relaysum"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    const auto x = params();
    if (options_.relay_gradients)
      std::fill(own_.begin(), own_.end(), 0.f);
    else
      own_.assign(x.begin(), x.end());
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    // M_{i->j} = own + Σ_{k≠j} M_{k->i} and c_{i->j} = 1 + Σ_{k≠j} c_{k->i}, from last round's messages.
    for (const auto& pw : plan().out) {
      std::vector<float> m(own_);
      double count = 1;
      for (const auto& [k, relay] : relayed_) {
        if (k == pw.peer) continue;
        for (std::size_t i = 0; i < m.size(); ++i) m[i] += relay.values[i];
        count += relay.count;
      }
      send(pw.peer, message_kind::model, dense_payload(m), count);
    }
  }

  void on_finish(const request& r) override {
    auto x = params();
    if (r.kind == step_kind::gradient) {
      sgd_.direction(x, grads(), d_);
      const double lr = plan().learning_rate;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto step = static_cast<float>(lr * d_[i]);
        if (options_.relay_gradients)
          own_[i] = -step;
        else
          own_[i] = x[i] - step;
      }
      return;
    }
    relayed_.clear();
    for (const auto& pw : plan().in) {
      auto f = inbox_.take(pw.peer, plan().round, false, stats());
      if (!f) {
        ++stats().messages_missing;  // counts as zero values and count 0
        continue;
      }
      relayed_[pw.peer] = {f->body.dense(), f->header.push_sum_weight};
    }
    const double n = static_cast<double>(plan().agents);
    double count = 1;
    std::vector<double> sum(own_.begin(), own_.end());
    for (const auto& [k, relay] : relayed_) {
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += relay.values[i];
      count += relay.count;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (options_.relay_gradients)
        x[i] = static_cast<float>(x[i] + sum[i] / n);
      else
        x[i] = static_cast<float>((sum[i] + (n - count) * reference_[i]) / n);
    }
    if (options_.update_reference && !options_.relay_gradients) reference_.assign(x.begin(), x.end());
  }

  void on_message(frame message) override {
    const double c = message.header.push_sum_weight;
    if (message.header.kind != message_kind::model || message.body.dimension != own_.size() || !(c >= 1) ||
        c > static_cast<double>(plan().agents) || !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    io.field("own", own_, true);
    io.field("reference", reference_, true);
    if (io.saving()) {
      for (auto& [peer, r] : relayed_) {
        io.field("relayed." + std::to_string(peer), r.values, true);
        io.field("relayed_count." + std::to_string(peer), r.count);
      }
    } else {
      relayed_.clear();
      for (auto peer : io.peers_of("relayed")) {
        auto& r = relayed_[peer];
        io.field("relayed." + std::to_string(peer), r.values, true);
        io.field("relayed_count." + std::to_string(peer), r.count);
      }
    }
  }

 private:
  struct relay {
    std::vector<float> values;
    double count = 0;
  };

  std::vector<float> own_, reference_, d_;
  std::map<std::int64_t, relay> relayed_;  // last round's M_{k->i}, c_{k->i}
  detail::inbox inbox_;
};

}  // namespace

std::unique_ptr<algorithm> make_relaysum(agent_context context, relaysum_options options) {
  return std::make_unique<relaysum>(std::move(context), options);
}

algorithm_entry relaysum_entry() {
  return {.name = "relaysum",
          .summary = "RelaySum/Model and RelaySum/Grad (Vogels et al. 2021) on a spanning tree",
          .rejoin =
              "each round sends whole relayed sums and counts, not differences: after a restart (or a lost message) "
              "every edge is correct again once the agent has sent once, and the tree's sums are again exact after a "
              "diameter of rounds",
          .options = {{.name = "relay_gradients", .default_value = false, .help = "RelaySum/Grad instead of /Model"},
                      {.name = "update_reference", .default_value = false, .help = "x_ref <- x after each round"}},
          .graph = {.undirected = true, .spanning_tree = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            relaysum_options o{.sgd = in.optimizer,
                               .relay_gradients = r.boolean("relay_gradients"),
                               .update_reference = r.boolean("update_reference")};
            return make_relaysum(std::move(in.context), o);
          }};
}

}  // namespace murmur::protocols
