#pragma once

// One agent without its actor shell: model replica, data shard, protocol
// state, counters. The actor drives it: begin a round, advance through the
// compute steps to the next exchange, hand it frames, complete exchanges.
// Single-threaded: used by one actor.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "murmur/actors/faults.hpp"
#include "murmur/actors/profile.hpp"
#include "murmur/actors/rejections.hpp"
#include "murmur/actors/settings.hpp"
#include "murmur/common/clock.hpp"
#include "murmur/nn/batches.hpp"
#include "murmur/nn/loss.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/trainer.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/topology/schedule.hpp"

namespace murmur::actors {

// What every agent of a process shares (read-only during the run).
struct shared_run {
  const settings* cfg = nullptr;
  const nn::dataset* train = nullptr;
  const nn::dataset* test = nullptr;
  const topology::schedule* schedule = nullptr;
  std::int64_t agents = 0;
  std::int64_t rounds = 0;           // total, the gossip tail included
  std::int64_t training_rounds = 0;  // training steps (each a round with a gradient step)
  // Rounds per training step: 1, or with consensus control the training
  // round and its gossip slots (protocols/consensus.hpp).
  std::uint64_t slots = 1;
  std::int64_t rounds_per_epoch = 1;  // of the smallest shard (all agents step together)
  int model_threads = 1;
  std::atomic<std::int64_t>* rounds_done = nullptr;  // summed over agents, for progress
  const common::clock* clock = nullptr;              // compute time (stragglers' delays); nullptr: steady
};

struct agent_metrics {
  std::int64_t agent = 0;
  std::uint64_t round = 0;
  double epoch = 0;
  double train_loss = 0;  // mean over the rounds since the last report
  double test_accuracy = -1, test_loss = -1;
  protocols::protocol_counters counters;
  std::uint64_t messages_dropped = 0;                             // by faults or a full queue
  std::uint64_t messages_rejected = 0;                            // frames the decoder refused
  std::array<std::uint64_t, std::size(loss_cause_names)> lost{};  // frames not delivered, by loss_cause
  phase_seconds phases;                                           // since the agent's start (profile.hpp)
  bool operator==(const agent_metrics&) const = default;
};

// The model of a run for a data set's sample shape and classes.
nn::model_spec model_spec_for(const model_settings& m, const nn::dataset& data);

// The registry entry of the run's algorithm. REQUIRES: a registered name.
const protocols::algorithm_entry& algorithm_of(const settings& cfg);

class agent_core {
 public:
  static common::result<std::unique_ptr<agent_core>> create(std::int64_t id, const shared_run& run,
                                                            std::vector<std::int64_t> shard);

  std::int64_t id() const { return id_; }
  std::uint64_t round() const { return round_; }
  bool finished() const { return static_cast<std::int64_t>(round_) >= run_.rounds; }
  std::uint64_t rounds() const { return static_cast<std::uint64_t>(run_.rounds); }  // of the run
  double epoch() const { return static_cast<double>(step()) / static_cast<double>(run_.rounds_per_epoch); }
  // The training step of the current round (in the gossip tail: past the
  // last, one per round); the round itself without consensus control.
  std::uint64_t step() const {
    const auto training = training_steps(), slotted = training * run_.slots;
    return round_ < slotted ? round_ / run_.slots : training + (round_ - slotted);
  }
  // Consensus control: whether the round just ended needs the controller's
  // verdict (another gossip round of its step may follow).
  bool verdict_due() const {
    return round_ > 0 && run_.cfg->topology.consensus.verdict_after(round_ - 1, training_steps());
  }
  // The verdict said the distance is met: on to the next training step,
  // past the step's remaining gossip rounds (counted as done for progress).
  void skip_gossip_slots();

  // Starts the current round. REQUIRES: !finished().
  void begin_round();
  // Runs compute steps until an exchange (returned, not completed) or the
  // end of the round (kind done). With `pause_after_gradient` it also
  // returns right after each gradient step (kind gradient, completed), so a
  // straggler can wait before going on.
  const protocols::request& advance(bool pause_after_gradient);
  void complete_exchange() {
    const phase_timer t(phases_, phase::protocol, clock());
    alg_->complete();
  }
  // After done: the next round.
  void end_round() {
    ++round_;
    if (run_.rounds_done) run_.rounds_done->fetch_add(1, std::memory_order_relaxed);
  }
  // Moves on to `round` (later than the current one, at most the last)
  // without computing the rounds between: an agent that was away.
  // `count`: the skipped rounds count as done for progress.
  void skip_to(std::uint64_t round, bool count = true);

  // The agent's whole state, to continue where it was: the model (weights
  // and statistics), the algorithm's state (state.hpp) and the round, as one
  // safetensors file written atomically.
  common::status save_checkpoint(const std::string& path);
  // Restores a checkpoint of this agent (same model, algorithm and agent;
  // anything else is refused with the file's name). Returns its round.
  common::result<std::uint64_t> load_checkpoint(const std::string& path);

  std::vector<protocols::outgoing_frame> take_outgoing() {
    const phase_timer t(phases_, phase::protocol, clock());
    return alg_->take_outgoing();
  }
  // Whether a frame may reach the protocol, judged from its header alone
  // (before the checksum is computed): its sender must be a neighbour (in or
  // out) in the frame's round, and the round no more than network.window
  // ahead of this agent's nor dedup_window behind it. The reason when not.
  std::optional<rejection> admit(const protocols::header_peek& h);
  // Whether the frame's sender is a neighbour (in or out) in the frame's round.
  bool neighbour_in(const protocols::header_peek& h);
  // The agent's in-neighbours in `round` (sorted; cached for the dedup window).
  const std::vector<std::int64_t>& in_neighbours(std::uint64_t round);
  // A frame from the wire (already decoded and admitted).
  void receive(protocols::frame f) {
    const phase_timer t(phases_, phase::protocol, clock());
    alg_->receive(std::move(f));
  }
  // The first parameter that is NaN or infinite; nullopt when all are finite.
  std::optional<std::size_t> first_non_finite();
  // The protocol's answer to "what am I waiting for?" (algorithm.hpp).
  std::vector<std::int64_t> waiting_for() const { return alg_->waiting_for(); }
  const std::vector<std::int64_t>& awaited_peers() { return alg_->next().from; }
  bool awaits_reply() { return alg_->next().reply; }
  std::optional<std::uint64_t> latest_round_of(std::int64_t peer) const { return alg_->latest_round_of(peer); }

  // The model to evaluate (push-sum: de-biased).
  std::span<const float> params() { return alg_->params(); }
  nn::eval_result evaluate(std::int64_t limit);
  agent_metrics report();
  const protocols::protocol_counters& counters() const { return alg_->counters(); }
  double last_compute_seconds() const { return last_compute_s_; }
  // Where the agent's time went; the actor adds the phases it does itself.
  phase_seconds& phases() { return phases_; }
  // The run's clock (the steady clock unless one is injected).
  const common::clock& clock() const;
  std::uint64_t dropped = 0, rejected = 0;
  std::array<std::uint64_t, std::size(loss_cause_names)> lost{};
  void note_lost(loss_cause c) {
    ++lost[static_cast<std::size_t>(c)];
    ++dropped;
  }

 private:
  agent_core(std::int64_t id, const shared_run& run) : id_(id), run_(run) {}
  std::uint64_t training_steps() const {
    return static_cast<std::uint64_t>(run_.training_rounds > 0 ? run_.training_rounds : run_.rounds);
  }
  double gradient_step();  // returns the loss
  void next_batch();
  void cross_gradients();
  void class_summaries();

  std::int64_t id_;
  const shared_run& run_;
  std::unique_ptr<nn::model> model_, scratch_;
  std::unique_ptr<nn::batch_loader> loader_;
  std::unique_ptr<nn::evaluator> evaluator_;
  std::unique_ptr<protocols::algorithm> alg_;
  const protocols::algorithm_entry* entry_ = nullptr;
  double lambda_model_ = 0, lambda_data_ = 0;  // features: the loss term's weights
  nn::softmax_cross_entropy loss_;
  const nn::tensor* images_ = nullptr;
  std::span<const std::int32_t> labels_;
  std::uint64_t round_ = 0;
  std::int64_t loader_epoch_ = -1, batch_round_ = -1;
  std::uint64_t skip_batches_ = 0;  // restored mid-epoch: batches of the epoch already taken
  // Neighbours (in or out, sorted) of a static graph, or of the rounds of a
  // time-varying one seen lately.
  std::vector<std::int64_t> static_neighbours_;
  std::map<std::uint64_t, std::vector<std::int64_t>> round_neighbours_;
  std::vector<std::vector<float>> neighbour_features_;  // CCL: this batch under each neighbour's model
  std::vector<float> feature_diff_;
  double loss_sum_ = 0;
  std::int64_t loss_count_ = 0;
  double last_compute_s_ = 0;
  phase_seconds phases_;
};

}  // namespace murmur::actors
