#include "agent_core.hpp"

#include <algorithm>
#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "murmur/protocols/plan.hpp"

namespace murmur::actors {
namespace {

const common::steady_clock steady;

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

const protocols::algorithm_entry& algorithm_of(const settings& cfg) {
  const auto* entry = protocols::find_algorithm(cfg.protocol.algorithm);
  // The configuration reader accepts registered names only.
  if (!entry) {
    std::fprintf(stderr, "murmur: unknown algorithm %s\n", cfg.protocol.algorithm.c_str());
    std::abort();
  }
  return *entry;
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
  const auto& entry = algorithm_of(cfg);
  a->entry_ = &entry;
  if (entry.compute.scratch_model) {
    auto s = nn::build_model(spec, run.model_threads);
    if (!s) return s.err();
    a->scratch_ = std::move(*s);
  }
  std::int64_t features = 0;
  if (entry.compute.features) {
    if (spec.precision != nn::precision::f32)
      return common::make_error(common::errc::unsupported,
                                "protocol.algorithm = \"" + entry.name + "\" needs model.precision = \"f32\"");
    // The width of the penultimate features, from one forward of a zero sample.
    nn::tensor probe({1, train.channels, train.height, train.width}, nn::dtype::f32, nn::layout::nhwc);
    std::fill(probe.f32_span().begin(), probe.f32_span().end(), 0.f);
    (void)a->model_->forward(probe, nn::mode::eval);
    features = a->model_->features().numel();
    const protocols::option_reader o(entry, cfg.protocol.options);
    a->lambda_model_ = o.number("lambda_model");
    a->lambda_data_ = o.number("lambda_data");
  }
  nn::augment_options aug;
  if (cfg.data.augment) aug = {.crop_padding = 4, .horizontal_flip = true};
  a->loader_ = std::make_unique<nn::batch_loader>(train, std::move(shard), cfg.data.batch, aug,
                                                  common::rng::derive(cfg.run.seed, 1000 + id).next_u64(),
                                                  run.model_threads, /*drop_last=*/false);
  // Small evaluation batches: every agent keeps the activations of its last shapes.
  a->evaluator_ = std::make_unique<nn::evaluator>(100, run.model_threads);
  auto alg = entry.create({.context = {.self = id,
                                       .params = a->model_->parameters(),
                                       .grads = a->model_->gradients(),
                                       .tensor_sizes = tensor_blocks(*a->model_),
                                       .seed = cfg.run.seed},
                           .optimizer = cfg.optimizer,
                           .asynchronous = cfg.run.mode == run_mode::async,
                           .graph_kind = cfg.topology.kind,
                           .classes = train.classes,
                           .features = features},
                          cfg.protocol.options);
  if (!alg) return alg.err();
  a->alg_ = std::move(*alg);
  return a;
}

namespace {

std::vector<std::int64_t> neighbours_of(const topology::graph& g, std::int64_t i) {
  std::vector<std::int64_t> out = g.in_neighbors(i);
  out.insert(out.end(), g.out_neighbors(i).begin(), g.out_neighbors(i).end());
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::optional<rejection> agent_core::admit(const protocols::header_peek& h) {
  constexpr auto back = protocols::algorithm::dedup_window;
  const auto window = static_cast<std::uint64_t>(run_.cfg->network.window);
  if (h.round > round_ + window || h.round + back < round_) return rejection::window;
  if (!neighbour_in(h)) return rejection::neighbour;
  return std::nullopt;
}

bool agent_core::neighbour_in(const protocols::header_peek& h) {
  return std::ranges::binary_search(in_neighbours(h.round), static_cast<std::int64_t>(h.sender));
}

const std::vector<std::int64_t>& agent_core::in_neighbours(std::uint64_t round) {
  constexpr auto back = protocols::algorithm::dedup_window;
  if (const auto* g = run_.schedule->fixed()) {
    if (static_neighbours_.empty()) static_neighbours_ = neighbours_of(*g, id_);
    return static_neighbours_;
  }
  auto it = round_neighbours_.find(round);
  if (it == round_neighbours_.end()) {
    // Rounds that fell out of the window are forgotten: the cache stays bounded.
    round_neighbours_.erase(round_neighbours_.begin(),
                            round_neighbours_.lower_bound(round_ > back ? round_ - back : 0));
    const auto g = run_.schedule->at(static_cast<std::int64_t>(round));
    it = round_neighbours_.emplace(round, neighbours_of(g, id_)).first;
  }
  return it->second;
}

std::optional<std::size_t> agent_core::first_non_finite() {
  const auto p = alg_->params();
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isfinite(p[i])) return i;
  return std::nullopt;
}

const common::clock& agent_core::clock() const { return run_.clock ? *run_.clock : steady; }

void agent_core::begin_round() {
  const phase_timer t(phases_, phase::protocol, clock());
  const auto& cfg = *run_.cfg;
  // A static graph is read in place; a time-varying one is built for the round.
  std::optional<topology::graph> built;
  const topology::graph* g = run_.schedule->fixed();
  if (!g) g = &built.emplace(run_.schedule->at(static_cast<std::int64_t>(round_)));
  // The weights were checked on the first rounds by the runtime; a
  // time-varying schedule keeps the graph's kind, so this cannot fail later.
  auto plan = std::move(*protocols::local_plan(*g, cfg.topology.weights, id_, round_));
  // The gossip tail: no gradient step, the epoch and learning rate of the last training round.
  // Consensus control's gossip slots: no gradient step, the epoch and learning rate of their step.
  const auto training = training_steps();
  const bool tail = step() >= training;
  plan.gossip_only = tail || round_ % run_.slots != 0;
  plan.exact_average = run_.schedule->exact_average(static_cast<std::int64_t>(round_));
  const double e = tail ? static_cast<double>(training - 1) / static_cast<double>(run_.rounds_per_epoch) : epoch();
  plan.epoch = static_cast<std::int64_t>(e);
  plan.learning_rate = run_.cfg->schedule.at(e);
  alg_->begin_round(std::move(plan));
}

const protocols::request& agent_core::advance(bool pause_after_gradient) {
  // The protocol's share is the time here less the model's passes (compute).
  const double start = clock().now_s(), compute_before = phases_[phase::compute];
  const auto leave = [&](const protocols::request& r) -> const protocols::request& {
    phases_[phase::protocol] += clock().now_s() - start - (phases_[phase::compute] - compute_before);
    return r;
  };
  for (;;) {
    const auto& r = alg_->next();
    switch (r.kind) {
      case protocols::step_kind::gradient: {
        const double loss = gradient_step();
        alg_->complete(loss);
        if (pause_after_gradient) return leave(r);
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
        return leave(r);
    }
  }
}

void agent_core::next_batch() {
  const auto epoch_now = static_cast<std::int64_t>(step() / static_cast<std::uint64_t>(run_.rounds_per_epoch));
  if (epoch_now != loader_epoch_) {
    loader_->start_epoch(epoch_now);
    loader_epoch_ = epoch_now;
    // Where a restored agent was in the epoch: the same batches follow.
    for (; skip_batches_ > 0; --skip_batches_)
      if (!loader_->next(images_, labels_)) break;
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
  const phase_timer t(phases_, phase::compute, clock());
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
  const double start = clock().now_s();
  if (batch_round_ != static_cast<std::int64_t>(round_)) next_batch();
  const auto& logits = model_->forward(*images_, nn::mode::train);
  const auto l = loss_.compute(logits, labels_);
  double loss = l.loss;
  if (entry_->compute.features) {
    // CE + λ_m Σ_j MSE(f, f_j) + λ_d MSE(f, p_y), through the features.
    const auto f = model_->features().f32_span();
    const auto n = static_cast<std::int64_t>(labels_.size());
    const auto h = static_cast<std::int64_t>(f.size()) / n;
    std::vector<std::span<const float>> targets(neighbour_features_.begin(), neighbour_features_.end());
    feature_diff_.resize(f.size());
    loss += nn::feature_matching_loss(f, n, h, targets, lambda_model_, alg_->prototypes(), labels_, lambda_data_,
                                      feature_diff_);
    (void)model_->backward(loss_.diff_logits(), feature_diff_);  // f32 checked at creation
  } else {
    model_->backward(loss_.diff_logits());
  }
  loss_sum_ += loss;
  ++loss_count_;
  last_compute_s_ = clock().now_s() - start;
  phases_[phase::compute] += last_compute_s_;
  return loss;
}

void agent_core::cross_gradients() {
  // ∇F(x_j; ξ_i) on the batch of this round's gradient step.
  const phase_timer t(phases_, phase::compute, clock());
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

void agent_core::skip_to(std::uint64_t round, bool count) {
  const auto last = static_cast<std::uint64_t>(run_.rounds);
  round = std::min(round, last);
  if (round <= round_) return;
  if (count && run_.rounds_done)
    run_.rounds_done->fetch_add(static_cast<std::int64_t>(round - round_), std::memory_order_relaxed);
  round_ = round;
  loader_epoch_ = -1;  // the batches of the new round's epoch, from its start
  skip_batches_ = step() % static_cast<std::uint64_t>(run_.rounds_per_epoch);
}

void agent_core::skip_gossip_slots() {
  const auto next = std::min((round_ / run_.slots + 1) * run_.slots, static_cast<std::uint64_t>(run_.rounds));
  if (next <= round_) return;
  if (run_.rounds_done)
    run_.rounds_done->fetch_add(static_cast<std::int64_t>(next - round_), std::memory_order_relaxed);
  round_ = next;
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
  m.lost = lost;
  m.phases = phases_;
  return m;
}

}  // namespace murmur::actors
