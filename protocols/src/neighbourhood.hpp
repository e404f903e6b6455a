#pragma once

// The part NGM and CCL share (ALGORITHMS.md §6): in order O3 they gossip
// models, keep the neighbours' models of the round (for cross-gradients or
// cross-features), mix x̃ = x + γ (mix - x) into params, and end the round
// with a momentum step (local or quasi-global) from x̃.

#include <map>
#include <optional>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"

namespace murmur::protocols::detail {

class neighbourhood : public algorithm {
 public:
  // How the quasi-global momentum sees the round's total change:
  //  - after_step (DSGD's QGM, the epfml code): the EMA takes the change from
  //    this round's pre-gossip point to its end, after the step;
  //  - before_step (the NGC code, optimizers/ngc.py): the EMA takes the change
  //    between the previous round's mixed point and this one's, over the
  //    previous lr, before this round's direction;
  //  - heavy_ball (the CCL code, gossip/distributed.py): no EMA; the gossip
  //    displacement r = x̃ - x is folded into the heavy-ball buffer,
  //    m <- m - r / η_prev, then m <- β m + g' (Nesterov g' + β m).
  enum class qgm_update { after_step, before_step, heavy_ball };

  neighbourhood(agent_context context, sgd_options sgd, momentum_kind momentum, qgm_options qgm,
                qgm_update update = qgm_update::after_step)
      : algorithm(std::move(context)),
        sgd_(sgd, params().size()),
        d_(params().size(), 0.f),
        update_(update),
        prev_mixed_(params().begin(), params().end()) {
    if (momentum != momentum_kind::quasi_global) return;
    if (update == qgm_update::heavy_ball)
      folded_.assign(params().size(), 0.f);
    else
      qgm_.emplace(sgd, qgm.mu, qgm.period, params().size());
  }

  std::vector<std::pair<std::int64_t, std::span<const float>>> neighbor_models() const override {
    std::vector<std::pair<std::int64_t, std::span<const float>>> out;
    for (const auto& [peer, model] : models_) out.emplace_back(peer, model);
    return out;
  }

 protected:
  request model_exchange() const {
    request r{.kind = step_kind::exchange, .messages = message_kind::model};
    r.from = in_peers();
    return r;
  }

  void send_model() {
    const auto x = params();
    x_start_.assign(x.begin(), x.end());
    for (const auto& pw : plan().out) send(pw.peer, message_kind::model, dense_payload(x));
  }

  // Keeps the arrived models and mixes params (renormalising over what arrived).
  void mix_models(double gamma) {
    models_.clear();
    auto got = collect(inbox_, plan(), false, stats());
    mix(params(), plan().self_weight, got, gamma);
    for (std::size_t k = 0; k < got.peers.size(); ++k) models_[got.peers[k]] = got.messages[k].body.dense();
  }

  // x <- x̃ - η d(g), with local momentum or QGM.
  void momentum_step(std::span<const float> g) {
    auto x = params();
    const double lr = plan().learning_rate;
    const double lr_prev = lr_prev_ > 0 ? lr_prev_ : lr;  // the first round stands in for the one before
    lr_prev_ = lr;
    if (!folded_.empty()) {
      heavy_ball_step(g, lr, lr_prev);
      return;
    }
    if (qgm_ && update_ == qgm_update::before_step) {
      // The NGC code: x^0 stands in for the previous mixed point at the first round.
      qgm_->round_end(prev_mixed_, x, lr_prev);
      prev_mixed_.assign(x.begin(), x.end());
    }
    if (qgm_)
      qgm_->direction(x, g, d_);
    else
      sgd_.direction(x, g, d_);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(lr * d_[i]);
    if (qgm_ && update_ == qgm_update::after_step) qgm_->round_end(x_start_, x, lr);
  }

  // Stores a model message; false if it is not one (the caller handles other kinds).
  bool take_model(frame& message) {
    if (message.header.kind != message_kind::model) return false;
    if (message.body.dimension != params().size() || !inbox_.put(std::move(message))) ++stats().messages_ignored;
    return true;
  }

  const std::map<std::int64_t, std::vector<float>>& models() const { return models_; }

  // The momentum of the round-ending step (the subclass adds its own state).
  void neighbourhood_state(state_io& io) {
    sgd_.state(io, "momentum");
    if (qgm_) qgm_->state(io, "qgm");
    if (qgm_ && update_ == qgm_update::before_step) io.field("qgm_prev_mixed", prev_mixed_);
    if (!folded_.empty()) io.field("qgm_heavy_ball", folded_);
    io.field("lr_prev", lr_prev_);
  }
  void on_state(state_io& io) override { neighbourhood_state(io); }

 private:
  void heavy_ball_step(std::span<const float> g, double lr, double lr_prev) {
    auto x = params();
    const auto& o = sgd_.options();
    const auto beta = static_cast<float>(o.momentum), wd = static_cast<float>(o.weight_decay);
    const auto fold = static_cast<float>(1.0 / lr_prev);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float gi = g[i] + wd * x[i];
      float& m = folded_[i];
      m -= (x[i] - x_start_[i]) * fold;  // the gossip displacement of this round
      m = beta * m + gi;
      const float d = o.nesterov ? gi + beta * m : m;
      x[i] -= static_cast<float>(lr * d);
    }
  }

  local_sgd sgd_;
  std::optional<quasi_global_momentum> qgm_;
  std::vector<float> d_, x_start_;
  qgm_update update_;
  std::vector<float> prev_mixed_;  // before_step: the last round's mixed point (x^0 at first)
  std::vector<float> folded_;      // heavy_ball: the buffer with the gossip folded in
  double lr_prev_ = 0;             // the last round's learning rate (0: none yet)
  inbox inbox_;
  std::map<std::int64_t, std::vector<float>> models_;
};

}  // namespace murmur::protocols::detail
