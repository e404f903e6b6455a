// Neighborhood Gradient Mean (ALGORITHMS.md §6.1). Per round: gossip models
// (O3), the self-gradient at x̃, the model-variant cross-gradients ∇F(x_j; ξ_i)
// computed here for every neighbour's model, then (α > 0) a second exchange
// that returns each cross-gradient to the model's owner, where it is a
// data-variant gradient. The step direction is
//   ĝ = (1-α)(w_ii g_ii + Σ w_ij g^mv_j) + α(w_ii g_ii + Σ w_ij g^dv_j),
// each bracket renormalised over the neighbours that contributed.

#include "murmur/protocols/registry.hpp"
#include "neighbourhood.hpp"

namespace murmur::protocols {
namespace {

class ngm final : public detail::neighbourhood {
 public:
  ngm(agent_context context, ngm_options options)
      : neighbourhood(std::move(context), options.sgd, options.momentum, options.qgm,
                      options.qgm_before_step ? qgm_update::before_step : qgm_update::after_step),
        options_(options),
        compress_(options.compression, {tensor_sizes().begin(), tensor_sizes().end()}),
        self_feedback_(params().size()),
        g_self_(params().size(), 0.f) {}

  std::string name() const override { return "ngm"; }

  // A model-variant gradient ∇F_i(x_j): kept for this agent's combine and
  // returned to j. CompNGM compresses it (with error feedback per peer) here;
  // the combine uses the compressed one, as the code does (compressngc.py,
  // CompNGC_sender), unless `compressed_locally` is off (the raw one).
  void cross_gradient(std::int64_t peer, std::span<const float> g) override {
    if (!models().contains(peer)) return;
    if (compress_.identity()) {
      model_variant_[peer].assign(g.begin(), g.end());
      return;
    }
    payload c = compressed(peer, g);
    model_variant_[peer] = options_.compressed_locally ? c.dense() : std::vector<float>(g.begin(), g.end());
    outgoing_.insert_or_assign(peer, std::move(c));
  }

 protected:
  std::vector<request> plan_steps() override {
    model_variant_.clear();
    data_variant_.clear();
    outgoing_.clear();
    if (plan().gossip_only) return {model_exchange()};
    std::vector<request> steps{model_exchange(), {.kind = step_kind::gradient}, {.kind = step_kind::cross_gradients}};
    if (options_.alpha > 0) {
      request back{.kind = step_kind::exchange, .messages = message_kind::gradient};
      back.from = in_peers();
      steps.push_back(back);
    }
    return steps;
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    if (r.messages == message_kind::model) {
      send_model();
      return;
    }
    for (const auto& [peer, g] : model_variant_) {
      if (compress_.identity())
        send(peer, message_kind::gradient, dense_payload(g));
      else
        send(peer, message_kind::gradient, outgoing_.at(peer));
    }
  }

  void on_finish(const request& r) override {
    if (r.kind == step_kind::exchange && r.messages == message_kind::model) {
      mix_models(options_.gamma);
      return;
    }
    if (r.kind == step_kind::gradient) {
      const auto g = grads();
      // CompNGM compresses g_ii too, for symmetry.
      if (compress_.identity())
        g_self_.assign(g.begin(), g.end());
      else if (options_.error_feedback)
        g_self_ = self_feedback_(g, compress_, gen()).dense();
      else
        g_self_ = compress_(g, gen()).dense();
      return;
    }
    if (r.kind == step_kind::exchange)
      for (auto peer : r.from)
        if (!data_variant_.contains(peer)) ++stats().messages_missing;
    // The last step of the round: combine and step.
    if (r.kind == step_kind::cross_gradients && options_.alpha > 0) return;
    const double wii = plan().self_weight;
    std::vector<double> mv(g_self_.size()), dv(g_self_.size());
    const auto bracket = [&](std::vector<double>& acc, const auto& gradients) {
      double total = wii;
      for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = wii * g_self_[i];
      for (const auto& [peer, g] : gradients) {
        const double w = in_weight(peer);
        total += w;
        for (std::size_t i = 0; i < acc.size(); ++i) acc[i] += w * g[i];
      }
      for (auto& v : acc) v /= total;
    };
    bracket(mv, model_variant_);
    bracket(dv, data_variant_);
    std::vector<float> combined(g_self_.size());
    for (std::size_t i = 0; i < combined.size(); ++i)
      combined[i] = static_cast<float>((1 - options_.alpha) * mv[i] + options_.alpha * dv[i]);
    momentum_step(combined);
  }

  void on_message(frame message) override {
    if (take_model(message)) return;
    const auto sender = static_cast<std::int64_t>(message.header.sender);
    if (message.header.kind != message_kind::gradient || message.body.dimension != params().size() ||
        message.header.round != plan().round || in_weight(sender) == 0 || data_variant_.contains(sender)) {
      ++stats().messages_ignored;
      return;
    }
    data_variant_[sender] = message.body.dense();
  }

  void on_state(state_io& io) override {
    neighbourhood_state(io);
    self_feedback_.state(io, "self_feedback");
    if (io.saving()) {
      for (auto& [peer, f] : feedback_) f.state(io, "feedback." + std::to_string(peer));
    } else {
      feedback_.clear();
      for (auto peer : io.peers_of("feedback"))
        feedback_.try_emplace(peer, params().size()).first->second.state(io, "feedback." + std::to_string(peer));
    }
  }

 private:
  payload compressed(std::int64_t peer, std::span<const float> g) {
    if (!options_.error_feedback) return compress_(g, gen());
    auto [it, fresh] = feedback_.try_emplace(peer, g.size());
    return it->second(g, compress_, gen());
  }

  double in_weight(std::int64_t peer) const {
    for (const auto& pw : plan().in)
      if (pw.peer == peer) return pw.weight;
    return 0.0;
  }

  ngm_options options_;
  compressor compress_;
  std::map<std::int64_t, error_feedback> feedback_;
  error_feedback self_feedback_;
  std::vector<float> g_self_;
  std::map<std::int64_t, std::vector<float>> model_variant_, data_variant_;
  std::map<std::int64_t, payload> outgoing_;  // CompNGM: the compressed cross-gradients to return
};

}  // namespace

std::unique_ptr<algorithm> make_ngm(agent_context context, ngm_options options) {
  return std::make_unique<ngm>(std::move(context), options);
}

algorithm_entry ngm_entry() {
  std::vector<option_spec> o{momentum_option()};
  for (auto& q : qgm_option_specs()) o.push_back(std::move(q));
  o.push_back(gamma_option(0.1));
  for (auto& c : compressor_options_of("none")) o.push_back(std::move(c));
  o.push_back(
      {.name = "error_feedback", .default_value = true, .help = "CompNGM: error feedback around the compressor"});
  o.push_back({.name = "alpha",
               .default_value = 1.0,
               .help = "weight of the data-variant cross-gradients (0: NGM_mv)",
               .lo = 0,
               .hi = 1});
  o.push_back({.name = "compressed_locally",
               .default_value = true,
               .help = "CompNGM: combine with the compressed model-variant gradients, as the code does "
                       "(compressngc.py); false: the raw ones"});
  o.push_back({.name = "qgm_update",
               .default_value = std::string("before-step"),
               .help = "QGM's buffer: before the step, from the previous mixed point with the previous lr (the NGC "
                       "code, optimizers/ngc.py) | after-step, from the pre-gossip point (DSGD's QGM)",
               .choices = {"before-step", "after-step"}});
  return {.name = "ngm",
          .summary = "NGM / NGM_mv / CompNGM (Aketi et al. 2023): neighbourhood gradient mean with cross-gradients",
          .rejoin =
              "whole models and cross-gradients every round: a restarted agent (model, momentum from its checkpoint) "
              "is mixed in again at its next round",
          .options = std::move(o),
          .optimizer = {.momentum = 0.9,
                        .nesterov = true,
                        .weight_decay = 0.0,
                        .source = "aparna-aketi/neighborhood_gradient_clustering, trainer.py and test.sh"},
          .graph = {.undirected = true},
          .compute = {.scratch_model = true},
          .make = [](algorithm_inputs in, const option_reader& r) {
            ngm_options n{.sgd = in.optimizer,
                          .momentum = r.choice<momentum_kind>("momentum"),
                          .qgm = {.mu = r.number("qgm_mu"), .period = r.integer("qgm_period")},
                          .alpha = r.number("alpha"),
                          .gamma = r.number("gamma"),
                          .compression = read_compressor(r),
                          .error_feedback = r.boolean("error_feedback"),
                          .qgm_before_step = r.text("qgm_update") == "before-step",
                          .compressed_locally = r.boolean("compressed_locally")};
            return make_ngm(std::move(in.context), n);
          }};
}

}  // namespace murmur::protocols
