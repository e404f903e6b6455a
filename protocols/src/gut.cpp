// Global Update Tracking and QG-GUTm (ALGORITHMS.md §6.2), following the
// code: agents send their change u = x - x̂ since the last send, keep the
// copy x̂ and the aggregate s = Σ_{j≠i} w_ij x̂_j, and track the
// neighbourhood's total update with no extra message.

#include <cassert>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class gut final : public detail::with_sgd<gut_options> {
 public:
  gut(agent_context context, gut_options options)
      : with_sgd(std::move(context), options),
        x_(params().begin(), params().end()),
        x_hat_(x_),
        s_(x_.size(), 0.0),
        a_(x_.size(), 0.f),
        g_(x_.size(), 0.f),
        delta_prev_(x_.size(), 0.f),
        y_(x_.size(), 0.f),
        d_(x_.size(), 0.f) {}

  std::string name() const override { return "gut"; }

 protected:
  std::vector<request> plan_steps() override {
    if (!initialised_) {
      // s = (1 - w_ii) x^0: every agent starts from the same x^0.
      for (std::size_t i = 0; i < x_.size(); ++i) s_[i] = (1.0 - plan().self_weight) * x_[i];
      initialised_ = true;
    }
    request exchange{.kind = step_kind::exchange, .messages = message_kind::update};
    exchange.from = in_peers();
    if (plan().gossip_only) return {exchange};
    return {exchange, {.kind = step_kind::gradient}};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    u_.resize(x_.size());
    for (std::size_t i = 0; i < x_.size(); ++i) u_[i] = x_[i] - x_hat_[i];
    const auto body = std::make_shared<const payload>(dense_payload(u_));
    for (const auto& pw : plan().out) send(pw.peer, message_kind::update, body);
  }

  void on_finish(const request& r) override {
    const double wii = plan().self_weight, lr = plan().learning_rate;
    if (r.kind == step_kind::exchange) {
      const auto got = detail::collect(inbox_, plan(), false, stats());
      std::vector<double> recv(x_.size(), 0.0);
      for (std::size_t k = 0; k < got.messages.size(); ++k)
        got.messages[k].body.add_to(std::span<double>(recv), got.weights[k]);
      const double beta = options_.sgd.momentum;
      const double b = 1.0 + beta + (options_.sgd.nesterov ? beta * beta : 0.0);
      for (std::size_t i = 0; i < x_.size(); ++i) {
        // A = r + w_ii u + b (previous gossip increment from the old copies)
        a_[i] = static_cast<float>(recv[i] + wii * u_[i] + b * (s_[i] - (1.0 - wii) * x_hat_[i]));
        x_hat_[i] += u_[i];
        s_[i] += recv[i];
        g_[i] = static_cast<float>(s_[i] - (1.0 - wii) * x_hat_[i]);  // G = Σ w_ij (x_j - x_i)
      }
      auto p = params();
      for (std::size_t i = 0; i < x_.size(); ++i) p[i] = x_[i] + static_cast<float>(options_.gamma) * g_[i];
      if (plan().gossip_only) x_.assign(p.begin(), p.end());
      return;
    }
    // δ = g - G/η'; y = δ - μ (A/η' + δ_prev); x <- x - η SGDm(y), where η'
    // is the previous step's learning rate (the code's) or this one's.
    const double tracking_lr = options_.previous_lr && lr_prev_ > 0 ? lr_prev_ : lr;
    lr_prev_ = lr;
    const auto grad = grads();
    const auto inv = static_cast<float>(1.0 / tracking_lr), mu = static_cast<float>(options_.mu);
    for (std::size_t i = 0; i < x_.size(); ++i) {
      const float delta = grad[i] - static_cast<float>(options_.gamma) * g_[i] * inv;
      y_[i] = delta - mu * (a_[i] * inv + delta_prev_[i]);
      delta_prev_[i] = delta;
    }
    sgd_.direction(x_, y_, d_);
    auto p = params();
    for (std::size_t i = 0; i < x_.size(); ++i) {
      x_[i] -= static_cast<float>(lr * d_[i]);
      p[i] = x_[i];
    }
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::update || message.body.dimension != x_.size() ||
        !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    const std::pair<const char*, std::vector<float>*> vectors[] = {
        {"x", &x_}, {"x_hat", &x_hat_}, {"u", &u_}, {"a", &a_}, {"g", &g_}, {"delta_prev", &delta_prev_}, {"y", &y_}};
    for (const auto& [name, v] : vectors) io.field(name, *v, true);
    io.field("s", s_, true);
    io.field("initialised", initialised_);
    io.field("lr_prev", lr_prev_);
  }

 private:
  std::vector<float> x_, x_hat_;
  std::vector<double> s_;
  std::vector<float> u_, a_, g_, delta_prev_, y_, d_;
  detail::inbox inbox_;
  bool initialised_ = false;
  double lr_prev_ = 0;  // the learning rate of the last gradient step (0: none yet)
};

}  // namespace

std::unique_ptr<algorithm> make_gut(agent_context context, gut_options options) {
  return std::make_unique<gut>(std::move(context), options);
}

algorithm_entry gut_entry() {
  return {.name = "gut",
          .summary = "GUT / QG-GUTm (Aketi et al. 2023): gossip with a tracking term of the neighbours' updates",
          .rejoin =
              "restores x, momentum and the tracking term; updates lost while it was down stay out of its neighbours' "
              "tracking terms (not repaired)",
          .options = {{.name = "mu",
                       .default_value = 0.9,
                       .help = "tracking factor (QG-GUTm: momentum 0.9, mu 0.06)",
                       .lo = 0,
                       .hi = 1},
                      gamma_option(1.0, "consensus step γ (only 1 is exact in the code)"),
                      {.name = "tracking_lr",
                       .default_value = std::string("previous"),
                       .help = "the lr dividing G and A: the previous step's (GUT's code, models/gut.py) or the "
                               "current one's (they differ after an lr change)",
                       .choices = {"previous", "current"}}},
          .optimizer = {.momentum = 0.0,
                        .nesterov = false,
                        .weight_decay = 0.0,
                        .source = "GUT's runs: aparna-aketi/global_update_tracking, trainer.py and test.sh; QG-GUTm is "
                                  "optimizer.momentum = 0.9 with protocol.mu = 0.06 (ResNet-20) or 0.01 (LeNet-5)"},
          .graph = {.undirected = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            gut_options g{.sgd = in.optimizer,
                          .mu = r.number("mu"),
                          .gamma = r.number("gamma"),
                          .previous_lr = r.text("tracking_lr") == "previous"};
            return make_gut(std::move(in.context), g);
          }};
}

}  // namespace murmur::protocols
