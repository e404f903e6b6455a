// CHOCO-SGD (ALGORITHMS.md §4): each agent keeps its public copy x̂ and the
// aggregate s = Σ_j w_ij x̂_j (self included) and sends only Q(x - x̂).

#include <cassert>
#include <map>
#include <set>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class choco final : public detail::with_sgd<choco_options> {
 public:
  choco(agent_context context, choco_options options)
      : with_sgd(std::move(context), options),
        compress_(options.compression, {tensor_sizes().begin(), tensor_sizes().end()}),
        x_hat_(params().size(), 0.f),
        s_(params().size(), 0.0),
        d_(params().size(), 0.f) {}

  std::string name() const override { return "choco"; }

 protected:
  std::vector<request> plan_steps() override {
    weights_.clear();
    for (const auto& [peer, w] : plan().in) weights_[peer] = w;
    request exchange{.kind = step_kind::exchange, .messages = message_kind::update};
    exchange.from = in_peers();
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    auto x = params();
    std::vector<float> diff(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) diff[i] = x[i] - x_hat_[i];
    const auto q = std::make_shared<const payload>(compress_(diff, gen()));
    q->add_to(std::span<float>(x_hat_));
    q->add_to(std::span<double>(s_), plan().self_weight);
    for (const auto& pw : plan().out) send(pw.peer, message_kind::update, q);
  }

  void on_finish(const request& r) override {
    if (r.kind == step_kind::gradient) {
      auto x = params();
      sgd_.direction(x, grads(), d_);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(plan().learning_rate * d_[i]);
      if (options_.consensus_first) consensus();
      return;
    }
    stats().messages_missing += waiting_for().size();
    if (!options_.consensus_first || plan().gossip_only) consensus();
  }

  // Every q_j is applied once, whenever it comes: late is harmless, lost is not.
  void on_message(frame message) override {
    const auto sender = static_cast<std::int64_t>(message.header.sender);
    const auto w = weights_.find(sender);
    if (message.header.kind != message_kind::update || message.body.dimension != params().size() ||
        w == weights_.end()) {
      ++stats().messages_ignored;
      return;
    }
    if (message.header.round + dedup_window < plan().round) {
      ++stats().messages_stale;  // too old to tell from a duplicate (the base drops those of newer rounds)
      return;
    }
    used_message_of(message.header.round);
    message.body.add_to(std::span<double>(s_), w->second);
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    io.field("x_hat", x_hat_);
    io.field("s", s_);
    io.field("weights", weights_);
  }

 private:
  // x <- x + γ (s - x̂)
  void consensus() {
    auto x = params();
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(x[i] + options_.gamma * (s_[i] - static_cast<double>(x_hat_[i])));
  }

  compressor compress_;
  std::vector<float> x_hat_;
  std::vector<double> s_;
  std::vector<float> d_;
  std::map<std::int64_t, double> weights_;
};

}  // namespace

std::unique_ptr<algorithm> make_choco(agent_context context, choco_options options) {
  return std::make_unique<choco>(std::move(context), options);
}

algorithm_entry choco_entry() {
  auto o = compressor_options_of("sign");
  o.push_back(gamma_option(0.5));
  o.push_back({.name = "consensus_first",
               .default_value = false,
               .help = "the code's order (consensus, then compress) instead of the paper's"});
  return {.name = "choco",
          .summary = "CHOCO-SGD (Koloskova et al. 2019): compressed gossip with public copies x̂",
          .rejoin =
              "lost updates q are not recovered (the copies x̂ neighbours hold drift from the agent's own for good), "
              "and a restore from a checkpoint is such a loss: after a crash, churn or drops the consensus keeps that "
              "offset; it is the algorithm the fault experiments show this on",
          .options = std::move(o),
          .graph = {.undirected = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            choco_options c{.sgd = in.optimizer,
                            .compression = read_compressor(r),
                            .gamma = r.number("gamma"),
                            .consensus_first = r.boolean("consensus_first")};
            return make_choco(std::move(in.context), c);
          }};
}

}  // namespace murmur::protocols
