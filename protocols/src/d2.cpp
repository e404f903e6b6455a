// D² / Exact Diffusion (Tang et al. 2018, "D²: Decentralized Training over
// Decentralized Data"), as the QGM repository runs it
// (epfml/quasi-global-momentum, code/pcode/optim/decentralized_d2.py):
//   g' = g + wd x;
//   x_half = x - η g'                                  (the first round)
//   x_half = 2x - x_prev - η (g' - g'_prev)            (after)
//   x <- Σ_j w_ij x_half_j
// where x_prev is the model at the previous round's start. The correction
// cancels the heterogeneity bias DSGD carries: exact at a constant step on
// a symmetric doubly stochastic W with λ_min(W) > -1/3 (the even ring with
// MH or uniform weights sits at -1/3 and diverges slowly). No momentum (the
// code applies none).

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::protocols {
namespace {

class d2 final : public algorithm {
 public:
  d2(agent_context context, double weight_decay)
      : algorithm(std::move(context)),
        weight_decay_(weight_decay),
        x_prev_(params().size(), 0.f),
        g_prev_(params().size(), 0.f) {}

  std::string name() const override { return "d2"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    const auto body = std::make_shared<const payload>(dense_payload(params()));
    for (const auto& pw : plan().out) send(pw.peer, message_kind::model, body);
  }

  void on_finish(const request& r) override {
    auto x = params();
    if (r.kind == step_kind::gradient) {
      const auto g = grads();
      const auto lr = static_cast<float>(plan().learning_rate), wd = static_cast<float>(weight_decay_);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float gi = g[i] + wd * x[i];
        const float start = x[i];
        x[i] = first_ ? x[i] - lr * gi : 2.f * x[i] - x_prev_[i] - lr * (gi - g_prev_[i]);
        x_prev_[i] = start;
        g_prev_[i] = gi;
      }
      first_ = false;
      return;
    }
    detail::mix(x, plan().self_weight, detail::collect(inbox_, plan(), false, stats()), 1.0);
  }

  void on_message(frame message) override {
    if (message.header.kind != message_kind::model || message.body.dimension != params().size() ||
        !inbox_.put(std::move(message)))
      ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    io.field("x_prev", x_prev_, true);
    io.field("g_prev", g_prev_, true);
    io.field("first", first_);
  }

 private:
  double weight_decay_;
  std::vector<float> x_prev_, g_prev_;
  detail::inbox inbox_;
  bool first_ = true;
};

}  // namespace

algorithm_entry d2_entry() {
  return {.name = "d2",
          .summary =
              "D² / Exact Diffusion (Tang et al. 2018, the QGM repository's form): DSGD with the "
              "2x - x_prev - η(g - g_prev) correction",
          .rejoin =
              "restores x, the previous model and gradient; a lost message leaves a bias the correction does not "
              "remove (like DSGD's, the renormalised mix goes on)",
          .optimizer = {.momentum = 0.0,
                        .nesterov = false,
                        .source = "epfml/quasi-global-momentum, code/pcode/optim/decentralized_d2.py (no momentum)"},
          .make = [](algorithm_inputs in, const option_reader&) -> common::result<std::unique_ptr<algorithm>> {
            if (in.optimizer.momentum != 0)
              return common::make_error(common::errc::invalid_argument,
                                        "algorithm \"d2\" uses no momentum (decentralized_d2.py applies none); set "
                                        "optimizer.momentum = 0");
            return std::unique_ptr<algorithm>(std::make_unique<d2>(std::move(in.context), in.optimizer.weight_decay));
          }};
}

}  // namespace murmur::protocols
