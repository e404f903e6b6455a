// Cross-feature Contrastive Loss, the communicated part (ALGORITHMS.md §6.3):
// gossip models (O3), then each agent summarises its batch's features per
// class under its own model and under each neighbour's model, sends the
// summary made with x_j to j, and builds class prototypes from its own
// summary and those it receives (sums / counts; classes never seen stay 0).
// The runtime adds λ_m Σ_j MSE(f_i, f_j) + λ_d MSE(f_i, p_y) to the loss.

#include <cmath>
#include <set>

#include "murmur/protocols/registry.hpp"
#include "neighbourhood.hpp"

namespace murmur::protocols {
namespace {

class ccl final : public detail::neighbourhood {
 public:
  ccl(agent_context context, ccl_options options)
      : neighbourhood(std::move(context), options.sgd, options.momentum, options.qgm,
                      options.heavy_ball ? qgm_update::heavy_ball : qgm_update::after_step),
        options_(options),
        summary_size_(static_cast<std::size_t>(options.classes * (options.features + 1))) {}

  std::string name() const override { return "ccl"; }
  std::span<const float> prototypes() const override { return prototypes_; }

  void class_summary(std::int64_t peer, std::span<const float> sums, std::span<const float> counts) override {
    const auto c = static_cast<std::size_t>(options_.classes), h = static_cast<std::size_t>(options_.features);
    if (sums.size() != c * h || counts.size() != c) return;  // a runtime bug; the test suite checks sizes
    std::vector<float> s(sums.begin(), sums.end());
    s.insert(s.end(), counts.begin(), counts.end());
    if (peer == self())
      accumulate(s);
    else if (models().contains(peer))
      outgoing_[peer] = std::move(s);
  }

 protected:
  std::vector<request> plan_steps() override {
    outgoing_.clear();
    total_.assign(summary_size_, 0.0);
    prototypes_.clear();
    if (plan().gossip_only) return {model_exchange()};
    request features{.kind = step_kind::exchange, .messages = message_kind::features};
    features.from = in_peers();
    return {model_exchange(), {.kind = step_kind::class_summaries}, features, {.kind = step_kind::gradient}};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    if (r.messages == message_kind::model) {
      send_model();
      return;
    }
    for (const auto& [peer, s] : outgoing_) send(peer, message_kind::features, dense_payload(s));
  }

  void on_finish(const request& r) override {
    if (r.kind == step_kind::exchange && r.messages == message_kind::model) {
      mix_models(options_.gamma);
    } else if (r.kind == step_kind::exchange) {
      stats().messages_missing += waiting_for().size();
      build_prototypes();
    } else if (r.kind == step_kind::gradient) {
      momentum_step(grads());
    }
  }

  void on_message(frame message) override {
    if (take_model(message)) return;
    if (message.header.kind != message_kind::features || message.body.dimension != summary_size_ ||
        message.header.round != plan().round || !counts_valid(message.body)) {
      ++stats().messages_ignored;
      return;
    }
    accumulate(message.body.dense());
  }

 private:
  bool counts_valid(const payload& p) const {
    const auto dense = p.dense();
    const auto c0 = static_cast<std::size_t>(options_.classes * options_.features);
    for (std::size_t k = c0; k < dense.size(); ++k)
      if (dense[k] < 0 || dense[k] != std::floor(dense[k])) return false;
    return true;
  }

  void accumulate(std::span<const float> s) {
    for (std::size_t k = 0; k < s.size(); ++k) total_[k] += s[k];
  }

  void build_prototypes() {
    const auto c = static_cast<std::size_t>(options_.classes), h = static_cast<std::size_t>(options_.features);
    prototypes_.assign(c * h, 0.f);
    for (std::size_t k = 0; k < c; ++k) {
      const double count = total_[c * h + k];
      if (count <= 0) continue;
      for (std::size_t f = 0; f < h; ++f) prototypes_[k * h + f] = static_cast<float>(total_[k * h + f] / count);
    }
  }

  ccl_options options_;
  std::size_t summary_size_;
  std::map<std::int64_t, std::vector<float>> outgoing_;  // summary made with x_j, for j
  std::vector<double> total_;
  std::vector<float> prototypes_;
};

}  // namespace

std::unique_ptr<algorithm> make_ccl(agent_context context, ccl_options options) {
  return std::make_unique<ccl>(std::move(context), options);
}

algorithm_entry ccl_entry() {
  auto o = qgm_option_specs();
  o.push_back(gamma_option(1.0));
  o.push_back({.name = "qgm_form",
               .default_value = std::string("heavy-ball"),
               .help = "the CCL code's quasi-global momentum: undamped heavy ball with the gossip folded in, "
                       "m <- m - γG/η_prev, m <- βm + g' (gossip/distributed.py) | ema: the epfml form (qgm_mu, "
                       "qgm_period)",
               .choices = {"heavy-ball", "ema"}});
  o.push_back({.name = "lambda_model",
               .default_value = 0.1,
               .help = "weight of the model-variant feature term",
               .lo = 0,
               .hi = 1e3});
  o.push_back(
      {.name = "lambda_data", .default_value = 0.1, .help = "weight of the prototype term", .lo = 0, .hi = 1e3});
  return {.name = "ccl",
          .summary = "CCL (Aketi et al. 2023): class-feature exchange and a feature-matching loss around QG-DSGDm",
          .rejoin =
              "whole models and class features are sent every round, so a restarted agent (model, momentum, QGM buffer "
              "from its checkpoint) is mixed in again at its next round",
          .options = std::move(o),
          .graph = {.undirected = true},
          .compute = {.scratch_model = true, .features = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            ccl_options c{.sgd = in.optimizer,
                          .qgm = {.mu = r.number("qgm_mu"), .period = r.integer("qgm_period")},
                          .gamma = r.number("gamma"),
                          .classes = in.classes,
                          .features = in.features,
                          .heavy_ball = r.text("qgm_form") == "heavy-ball"};
            return make_ccl(std::move(in.context), c);
          }};
}

}  // namespace murmur::protocols
