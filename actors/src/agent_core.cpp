#include "agent_core.hpp"

#include <chrono>

#include "murmur/protocols/plan.hpp"

namespace murmur::actors {
namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Blocks of the flat parameter span, one per tensor (padding included), for
// layer-wise compression.
std::vector<std::size_t> tensor_blocks(nn::model& m) {
  const auto& entries = m.store().parameter_entries();
  const auto total = m.parameters().size();
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto end = k + 1 < entries.size() ? entries[k + 1].offset : total;
    out.push_back(end - entries[k].offset);
  }
  return out;
}

}  // namespace

const char* to_string(algorithm_kind k) {
  switch (k) {
    case algorithm_kind::dsgd:
      return "dsgd";
    case algorithm_kind::all_reduce:
      return "all-reduce";
    case algorithm_kind::push_sum:
      return "push-sum";
    case algorithm_kind::choco:
      return "choco";
    case algorithm_kind::gut:
      return "gut";
    case algorithm_kind::gradient_tracking:
      return "gradient-tracking";
    case algorithm_kind::relaysum:
      return "relaysum";
    case algorithm_kind::ad_psgd:
      return "ad-psgd";
    case algorithm_kind::ngm:
      return "ngm";
    case algorithm_kind::ccl:
      return "ccl";
  }
  return "?";
}

common::result<std::unique_ptr<protocols::algorithm>> make_protocol(const protocol_settings& p,
                                                                    const protocols::sgd_options& optimizer,
                                                                    protocols::agent_context c) {
  using namespace protocols;
  switch (p.algorithm) {
    case algorithm_kind::dsgd: {
      auto o = p.dsgd;
      o.sgd = optimizer;
      return make_dsgd(std::move(c), o);
    }
    case algorithm_kind::all_reduce: {
      auto o = p.dsgd;
      o.sgd = optimizer;
      return make_all_reduce(std::move(c), o);
    }
    case algorithm_kind::push_sum: {
      auto o = p.push_sum;
      o.sgd = optimizer;
      return make_push_sum_sgd(std::move(c), o);
    }
    case algorithm_kind::choco: {
      auto o = p.choco;
      o.sgd = optimizer;
      return make_choco(std::move(c), o);
    }
    case algorithm_kind::gut: {
      auto o = p.gut;
      o.sgd = optimizer;
      return make_gut(std::move(c), o);
    }
    case algorithm_kind::gradient_tracking: {
      auto o = p.tracking;
      o.sgd = optimizer;
      return make_gradient_tracking(std::move(c), o);
    }
    case algorithm_kind::relaysum: {
      auto o = p.relaysum;
      o.sgd = optimizer;
      return make_relaysum(std::move(c), o);
    }
    case algorithm_kind::ad_psgd: {
      auto o = p.ad_psgd;
      o.sgd = optimizer;
      return make_ad_psgd(std::move(c), o);
    }
    case algorithm_kind::ngm: {
      auto o = p.ngm;
      o.sgd = optimizer;
      return make_ngm(std::move(c), o);
    }
    case algorithm_kind::ccl: {
      auto o = p.ccl;
      o.sgd = optimizer;
      return make_ccl(std::move(c), o);
    }
  }
  return common::make_error(common::errc::invalid_argument, "unknown algorithm");
}

nn::model_spec model_spec_for(const model_settings& m, const nn::dataset& data) {
  return {.name = m.name,
          .input = {data.channels, data.height, data.width},
          .classes = data.classes,
          .norm = m.norm,
          .groups = m.groups,
          .chunks = m.chunks,
          .precision = m.precision};
}

common::result<std::unique_ptr<agent_core>> agent_core::create(std::int64_t id, const shared_run& run,
                                                               std::vector<std::int64_t> shard) {
  std::unique_ptr<agent_core> a(new agent_core(id, run));
  const auto& cfg = *run.cfg;
  const auto& train = *run.train;
  const auto spec = model_spec_for(cfg.model, train);
  auto m = nn::build_model(spec, run.model_threads);
  if (!m) return m.err();
  a->model_ = std::move(*m);
  // Every agent starts from the same x^0 (GUT and RelaySum require it).
  a->model_->init(cfg.run.seed);
  const bool ccl = cfg.protocol.algorithm == algorithm_kind::ccl;
  if (cfg.protocol.algorithm == algorithm_kind::ngm || ccl) {
    auto s = nn::build_model(spec, run.model_threads);
    if (!s) return s.err();
    a->scratch_ = std::move(*s);
  }
  auto protocol = cfg.protocol;
  if (ccl) {
    if (spec.precision != nn::precision::f32)
      return common::make_error(common::errc::unsupported,
                                "protocol.algorithm = \"ccl\" needs model.precision = \"f32\"");
    // The width of the penultimate features, from one forward of a zero sample.
    nn::tensor probe({1, train.channels, train.height, train.width}, nn::dtype::f32, nn::layout::nhwc);
    std::fill(probe.f32_span().begin(), probe.f32_span().end(), 0.f);
    (void)a->model_->forward(probe, nn::mode::eval);
    protocol.ccl.classes = train.classes;
    protocol.ccl.features = a->model_->features().numel();
  }
  nn::augment_options aug;
  if (cfg.data.augment) aug = {.crop_padding = 4, .horizontal_flip = true};
  a->loader_ = std::make_unique<nn::batch_loader>(train, std::move(shard), cfg.data.batch, aug,
                                                  common::rng::derive(cfg.run.seed, 1000 + id).next_u64(),
                                                  run.model_threads, /*drop_last=*/false);
  // Small evaluation batches: every agent keeps the activations of its last shapes.
  a->evaluator_ = std::make_unique<nn::evaluator>(100, run.model_threads);
  auto alg = make_protocol(protocol, cfg.optimizer,
                           {.self = id,
                            .params = a->model_->parameters(),
                            .grads = a->model_->gradients(),
                            .tensor_sizes = tensor_blocks(*a->model_),
                            .seed = cfg.run.seed});
  if (!alg) return alg.err();
  a->alg_ = std::move(*alg);
  return a;
}

void agent_core::begin_round() {
  const auto& cfg = *run_.cfg;
  const auto g = run_.schedule->at(static_cast<std::int64_t>(round_));
  auto w = protocols::weights_for(g, cfg.topology.weights);
  // The weights were checked on round 0 by the runtime; a time-varying
  // schedule keeps the graph's kind, so this cannot fail later.
  auto plan = protocols::make_plan(g, *w, id_, round_);
  plan.epoch = static_cast<std::int64_t>(epoch());
  plan.learning_rate = run_.cfg->schedule.at(epoch());
  alg_->begin_round(std::move(plan));
}

const protocols::request& agent_core::advance(bool pause_after_gradient) {
  for (;;) {
    const auto& r = alg_->next();
    switch (r.kind) {
      case protocols::step_kind::gradient: {
        const double loss = gradient_step();
        alg_->complete(loss);
        if (pause_after_gradient) return r;
        break;
      }
      case protocols::step_kind::cross_gradients:
        cross_gradients();
        alg_->complete();
        break;
      case protocols::step_kind::class_summaries:
        class_summaries();
        alg_->complete();
        break;
      default:
        return r;
    }
  }
}

void agent_core::next_batch() {
  const auto epoch_now = static_cast<std::int64_t>(round_ / static_cast<std::uint64_t>(run_.rounds_per_epoch));
  if (epoch_now != loader_epoch_) {
    loader_->start_epoch(epoch_now);
    loader_epoch_ = epoch_now;
  }
  if (!loader_->next(images_, labels_)) {
    // The shard is shorter than the common epoch length: wrap around.
    loader_->start_epoch(epoch_now + 1000003);
    (void)loader_->next(images_, labels_);
  }
  batch_round_ = static_cast<std::int64_t>(round_);
}

void agent_core::class_summaries() {
  // CCL (ALGORITHMS.md §6.3): this round's batch under the own (mixed) model
  // and under each neighbour's model; the neighbours' features are the
  // detached targets of the model-variant term.
  next_batch();
  const auto classes = run_.train->classes;
  const auto summarize = [&](nn::model& m, std::int64_t peer, bool keep) {
    (void)m.forward(*images_, nn::mode::eval);
    const auto f = m.features().f32_span();
    const auto n = static_cast<std::int64_t>(labels_.size());
    const auto h = static_cast<std::int64_t>(f.size()) / n;
    std::vector<float> sums(static_cast<std::size_t>(classes * h)), counts(static_cast<std::size_t>(classes));
    nn::class_feature_sums(f, n, h, labels_, classes, sums, counts);
    alg_->class_summary(peer, sums, counts);
    if (keep) neighbour_features_.emplace_back(f.begin(), f.end());
  };
  neighbour_features_.clear();
  summarize(*model_, id_, false);
  for (const auto& [peer, model] : alg_->neighbor_models()) {
    auto p = scratch_->parameters();
    std::copy(model.begin(), model.end(), p.begin());
    summarize(*scratch_, peer, true);
  }
}

double agent_core::gradient_step() {
  const double start = now_s();
  if (batch_round_ != static_cast<std::int64_t>(round_)) next_batch();
  const auto& logits = model_->forward(*images_, nn::mode::train);
  const auto l = loss_.compute(logits, labels_);
  double loss = l.loss;
  if (run_.cfg->protocol.algorithm == algorithm_kind::ccl) {
    // CE + λ_m Σ_j MSE(f, f_j) + λ_d MSE(f, p_y), through the features.
    const auto f = model_->features().f32_span();
    const auto n = static_cast<std::int64_t>(labels_.size());
    const auto h = static_cast<std::int64_t>(f.size()) / n;
    std::vector<std::span<const float>> targets(neighbour_features_.begin(), neighbour_features_.end());
    feature_diff_.resize(f.size());
    loss += nn::feature_matching_loss(f, n, h, targets, run_.cfg->protocol.ccl_lambda_model, alg_->prototypes(),
                                      labels_, run_.cfg->protocol.ccl_lambda_data, feature_diff_);
    (void)model_->backward(loss_.diff_logits(), feature_diff_);  // f32 checked at creation
  } else {
    model_->backward(loss_.diff_logits());
  }
  loss_sum_ += loss;
  ++loss_count_;
  last_compute_s_ = now_s() - start;
  compute_total_s_ += last_compute_s_;
  return loss;
}

void agent_core::cross_gradients() {
  // ∇F(x_j; ξ_i) on the batch of this round's gradient step.
  for (const auto& [peer, model] : alg_->neighbor_models()) {
    auto p = scratch_->parameters();
    std::copy(model.begin(), model.end(), p.begin());
    const auto& logits = scratch_->forward(*images_, nn::mode::train);
    (void)loss_.compute(logits, labels_);
    scratch_->backward(loss_.diff_logits());
    alg_->cross_gradient(peer, scratch_->gradients());
  }
}

nn::eval_result agent_core::evaluate(std::int64_t limit) {
  return evaluator_->run(*model_, *run_.test, nn::mode::eval, limit);
}

agent_metrics agent_core::report() {
  agent_metrics m;
  m.agent = id_;
  m.round = round_;
  m.epoch = epoch();
  m.train_loss = loss_count_ ? loss_sum_ / static_cast<double>(loss_count_) : 0;
  loss_sum_ = 0;
  loss_count_ = 0;
  m.counters = alg_->counters();
  m.messages_dropped = dropped;
  m.messages_rejected = rejected;
  m.compute_seconds = compute_total_s_;
  return m;
}

}  // namespace murmur::actors
