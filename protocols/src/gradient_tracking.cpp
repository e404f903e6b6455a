// Gradient tracking (DIGing) as in the QGM repository (ALGORITHMS.md §7.2):
// y tracks the network's average gradient; [x, y] travel in one message.
//   y <- y + g' - g'_prev (y = g' at first), d = SGDm(y),
//   x <- Σ w_ij x_j - η d,  y <- Σ w_ij y_j.

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class gradient_tracking final : public detail::with_sgd<gradient_tracking_options> {
 public:
  gradient_tracking(agent_context context, gradient_tracking_options options)
      : with_sgd(std::move(context), options, {.momentum = options.sgd.momentum, .nesterov = options.sgd.nesterov}),
        y_(params().size(), 0.f),
        g_prev_(params().size(), 0.f),
        d_(params().size(), 0.f),
        both_(2 * params().size()) {}

  std::string name() const override { return "gradient_tracking"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    std::fill(d_.begin(), d_.end(), 0.f);
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    const auto x = params();
    std::copy(x.begin(), x.end(), both_.begin());
    std::copy(y_.begin(), y_.end(), both_.begin() + static_cast<std::ptrdiff_t>(x.size()));
    const auto body = std::make_shared<const payload>(dense_payload(both_));
    for (const auto& pw : plan().out) send(pw.peer, message_kind::model, body);
  }

  void on_finish(const request& r) override {
    auto x = params();
    if (r.kind == step_kind::gradient) {
      const auto g = grads();
      const auto wd = static_cast<float>(options_.sgd.weight_decay);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float gi = g[i] + wd * x[i];
        y_[i] = first_ ? gi : y_[i] + gi - g_prev_[i];
        g_prev_[i] = gi;
      }
      first_ = false;
      sgd_.direction(x, y_, d_);
      return;
    }
    const auto got = detail::collect(inbox_, plan(), false, stats());
    detail::mix(x, plan().self_weight, got, 1.0, 0);
    detail::mix(y_, plan().self_weight, got, 1.0, x.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(plan().learning_rate * d_[i]);
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::model || message.body.dimension != both_.size() ||
        !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    io.field("y", y_, true);
    io.field("g_prev", g_prev_, true);
    io.field("first", first_);
  }

 private:
  std::vector<float> y_, g_prev_, d_, both_;
  detail::inbox inbox_;
  bool first_ = true;
};

}  // namespace

std::unique_ptr<algorithm> make_gradient_tracking(agent_context context, gradient_tracking_options options) {
  return std::make_unique<gradient_tracking>(std::move(context), options);
}

algorithm_entry gradient_tracking_entry() {
  return {.name = "gradient-tracking",
          .summary = "gradient tracking (DIGing, the QGM repository's form): [x, y] in one message",
          .rejoin =
              "restores x, the tracker y and its last gradient; messages lost while it was down (or since the "
              "checkpoint) break the sum invariant of y, which the method does not repair",
          .make = optimizer_only(make_gradient_tracking)};
}

}  // namespace murmur::protocols
