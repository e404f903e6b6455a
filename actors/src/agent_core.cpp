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
    case algorithm_kind::ccl:
      return common::make_error(common::errc::unsupported,
                                "protocol.algorithm = \"ccl\": the runtime does not yet add CCL's loss term "
                                "(its feature exchange is in protocols/, tested there)");
  }
  return common::make_error(common::errc::invalid_argument, "unknown algorithm");
}

common::result<std::unique_ptr<agent_core>> agent_core::create(std::int64_t id, const shared_run& run,
                                                               std::vector<std::int64_t> shard) {
  std::unique_ptr<agent_core> a(new agent_core(id, run));
  const auto& cfg = *run.cfg;
  const auto& train = *run.train;
  nn::model_spec spec{.name = cfg.model.name,
                      .input = {train.channels, train.height, train.width},
                      .classes = train.classes,
                      .norm = cfg.model.norm,
                      .groups = cfg.model.groups,
                      .chunks = cfg.model.chunks,
                      .precision = cfg.model.precision};
  auto m = nn::build_model(spec, run.model_threads);
  if (!m) return m.err();
  a->model_ = std::move(*m);
  // Every agent starts from the same x^0 (GUT and RelaySum require it).
  a->model_->init(cfg.run.seed);
  if (cfg.protocol.algorithm == algorithm_kind::ngm) {
    auto s = nn::build_model(spec, run.model_threads);
    if (!s) return s.err();
    a->scratch_ = std::move(*s);
  }
  nn::augment_options aug;
  if (cfg.data.augment) aug = {.crop_padding = 4, .horizontal_flip = true};
  a->loader_ = std::make_unique<nn::batch_loader>(train, std::move(shard), cfg.data.batch, aug,
                                                  common::rng::derive(cfg.run.seed, 1000 + id).next_u64(),
                                                  run.model_threads, /*drop_last=*/false);
  a->evaluator_ = std::make_unique<nn::evaluator>(500, run.model_threads);
  auto alg = make_protocol(cfg.protocol, cfg.optimizer,
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
        alg_->complete();  // unreachable: make_protocol refuses CCL
        break;
      default:
        return r;
    }
  }
}

double agent_core::gradient_step() {
  const double start = now_s();
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
  const auto& logits = model_->forward(*images_, nn::mode::train);
  const auto l = loss_.compute(logits, labels_);
  model_->backward(loss_.diff_logits());
  loss_sum_ += l.loss;
  ++loss_count_;
  last_compute_s_ = now_s() - start;
  compute_total_s_ += last_compute_s_;
  return l.loss;
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
