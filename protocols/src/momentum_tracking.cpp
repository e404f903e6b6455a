// Momentum Tracking (Takezawa et al., TMLR 2023) as aparna-aketi/Momentum_Tracking
// runs it (gossip/distributed.py, update_gu / transfer_params /
// gossip_averaging, called in that order by trainer.py's train loop):
//   u <- β u + g',                       (the local momentum; g' = g + λ x)
//   d  = u - c,                          (c: the tracking correction, 0 at first)
//   send [x, c - u] to the neighbours,
//   c <- u + Σ_j w_ij (c_j - u_j),       (the mixed tracker, self included)
//   x <- Σ_j w_ij x_j - η d.             (the step on the mixed model, plain SGD)
// u - c tracks the network's average momentum, so heterogeneous data do not
// bias the momentum's direction. β is optimizer.momentum; the code's torch
// optimizer is plain SGD and its weight decay 0.

#include "gossip.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class momentum_tracking final : public algorithm {
 public:
  momentum_tracking(agent_context context, sgd_options sgd)
      : algorithm(std::move(context)),
        sgd_(sgd),
        u_(params().size(), 0.f),
        c_(params().size(), 0.f),
        both_(2 * params().size()) {}

  std::string name() const override { return "momentum_tracking"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    stepped_ = false;
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    const auto x = params();
    const auto n = x.size();
    std::copy(x.begin(), x.end(), both_.begin());
    for (std::size_t i = 0; i < n; ++i) both_[n + i] = c_[i] - u_[i];
    const auto body = std::make_shared<const payload>(dense_payload(both_));
    for (const auto& pw : plan().out) send(pw.peer, message_kind::model, body);
  }

  void on_finish(const request& r) override {
    auto x = params();
    const auto n = x.size();
    if (r.kind == step_kind::gradient) {
      const auto g = grads();
      const auto beta = static_cast<float>(sgd_.momentum), wd = static_cast<float>(sgd_.weight_decay);
      for (std::size_t i = 0; i < n; ++i) u_[i] = beta * u_[i] + (g[i] + wd * x[i]);
      stepped_ = true;
      return;
    }
    // d = u - c with the tracker before this round's mix.
    std::vector<float> d(n);
    for (std::size_t i = 0; i < n; ++i) d[i] = u_[i] - c_[i];
    const auto got = detail::collect(inbox_, plan(), false, stats());
    detail::mix(x, plan().self_weight, got, 1.0, 0);
    // c <- u + mix(c - u): the tracker's part of the message, self included.
    std::vector<float> t(both_.begin() + static_cast<std::ptrdiff_t>(n), both_.end());
    detail::mix(t, plan().self_weight, got, 1.0, n);
    for (std::size_t i = 0; i < n; ++i) c_[i] = u_[i] + t[i];
    if (!stepped_) return;  // gossip only: the tracker mixes, the model takes no step
    for (std::size_t i = 0; i < n; ++i) x[i] -= static_cast<float>(plan().learning_rate * d[i]);
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::model || message.body.dimension != both_.size() ||
        !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    io.field("u", u_, true);
    io.field("c", c_, true);
  }

 private:
  sgd_options sgd_;
  std::vector<float> u_, c_, both_;
  detail::inbox inbox_;
  bool stepped_ = false;
};

}  // namespace

algorithm_entry momentum_tracking_entry() {
  return {.name = "momentum-tracking",
          .summary =
              "Momentum Tracking (Takezawa et al. 2023, aparna-aketi/Momentum_Tracking): the momentum's "
              "network average tracked by a correction gossiped with the model",
          .rejoin =
              "restores x, the momentum u and the correction c; messages lost while it was down break the "
              "tracker's sum (Σ c = Σ u), which the method does not repair",
          .optimizer = {.momentum = 0.9,
                        .nesterov = false,
                        .weight_decay = 0.0,
                        .source = "aparna-aketi/Momentum_Tracking, trainer.py (momentum 0.9 in the gossip wrapper, "
                                  "plain torch SGD, weight decay 0)"},
          .graph = {.undirected = true},
          .make = [](algorithm_inputs in, const option_reader&) -> common::result<std::unique_ptr<algorithm>> {
            if (in.optimizer.nesterov)
              return common::make_error(common::errc::invalid_argument,
                                        "algorithm \"momentum-tracking\" tracks heavy-ball momentum (the code has no "
                                        "Nesterov form); set optimizer.nesterov = false");
            return std::unique_ptr<algorithm>(std::make_unique<momentum_tracking>(std::move(in.context), in.optimizer));
          }};
}

}  // namespace murmur::protocols
