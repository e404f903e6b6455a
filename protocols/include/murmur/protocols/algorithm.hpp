#pragma once

// The interface every gossip algorithm implements (DESIGN.md, "protocols/").
//
// An algorithm is a state machine of one agent. It is lent the agent's
// parameters and gradients as spans (the model's arenas) and, each round, the
// round's plan: neighbours and mixing weights from topology/, learning rate,
// epoch. It asks the runtime for work through `next()`:
//
//   exchange         send `take_outgoing()`; if `wait`, wait for the listed
//                    peers' messages of this round (up to a timeout), handing
//                    each to `receive()`; then call `complete()`.
//   gradient         compute the local mini-batch gradient at `params()`
//                    into the gradient span; then `complete(loss)`.
//   cross_gradients  (NGM) for each `neighbor_models()` entry, compute the
//                    gradient of that model on the *same* local batch and give
//                    it to `cross_gradient()`; then `complete()`.
//   class_summaries  (CCL) for the own model and each neighbour model, give
//                    the per-class feature sums and counts of the local batch
//                    to `class_summary()`; then `complete()`.
//   done             the round is over; `params()` holds the model to
//                    evaluate (for push-sum the de-biased z = x / w).
//
// Messages may arrive at any time (late, early, twice): `receive()` takes
// them whenever they come and the algorithm decides, per its documented rule,
// what to do with them. `take_outgoing()` may hold messages at any time (AD-
// PSGD replies from inside `receive()`); the runtime sends them whenever it
// finds them. An algorithm reads no clock, opens no socket, starts no thread
// and draws randomness only from the generator it is given.
//
// Thread: one agent's algorithm is used from one thread at a time.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/state.hpp"

namespace murmur::protocols {

struct peer_weight {
  std::int64_t peer = 0;
  double weight = 0;
};

// One agent's view of one round (see plan.hpp to build it from topology/).
struct round_plan {
  std::uint64_t round = 0;
  std::int64_t epoch = 0;
  std::int64_t agents = 1;
  double learning_rate = 0;
  bool gossip_only = false;    // no gradient step this round (final gossip tail, §0.5)
  bool exact_average = false;  // this round's graph is the complete one of periodic exact averaging
  double self_weight = 1;      // w_ii
  // in: j -> i with w_ij, the weight this agent gives j's message (row i of W).
  // out: i -> j with w_ji, the share this agent pushes to j (column i of W).
  std::vector<peer_weight> in, out;
};

enum class step_kind { exchange, gradient, cross_gradients, class_summaries, done };

struct request {
  step_kind kind = step_kind::done;
  message_kind messages = message_kind::model;  // exchange: what is exchanged
  bool wait = true;                             // exchange: wait for `from` (false: go on with what is there)
  std::vector<std::int64_t> from;               // exchange: peers whose message stamped with this round is awaited
  // exchange: `from` owe a reply to this agent's own request, awaited (up
  // to the timeout) in async mode too, where other exchanges wait only on
  // staleness (AD-PSGD's atomic pairwise average).
  bool reply = false;
};

// The local optimizer of ALGORITHMS.md §0.3 over spans (PyTorch SGD
// semantics): g' = g + λ x; m <- β m + g'; d = g' + β m (Nesterov) or m.
struct sgd_options {
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
  bool operator==(const sgd_options&) const = default;
};

class local_sgd {
 public:
  local_sgd(sgd_options options, std::size_t size);
  // d <- the direction for gradient g at x (updates the momentum buffer).
  void direction(std::span<const float> x, std::span<const float> g, std::span<float> d);
  const sgd_options& options() const { return options_; }
  std::span<const float> momentum_buffer() const { return m_; }
  void state(state_io& io, const std::string& name) { io.field(name, m_); }

 private:
  sgd_options options_;
  std::vector<float> m_;
};

// Counters every algorithm keeps.
struct protocol_counters {
  std::uint64_t messages_sent = 0, bytes_sent = 0;
  std::uint64_t messages_received = 0, bytes_received = 0;
  std::uint64_t messages_missing = 0;  // awaited this round and absent when the exchange ended
  std::uint64_t messages_stale = 0;    // arrived after their round and not used
  std::uint64_t messages_ignored = 0;  // duplicates, from non-neighbours, wrong dimension
  std::uint64_t staleness_max = 0;     // rounds between a used message's round and the round it was used in
  bool operator==(const protocol_counters&) const = default;
};

// The averaging-rate schedule (ARS, ALGORITHMS.md §3.2): the consensus step
// γ_e = min(1, γ_0 · r^e) in epoch e; r = 1 keeps γ constant.
struct averaging_rate {
  double initial = 1.0;
  double growth = 1.0;
  double at(std::int64_t epoch) const;
};

// What every algorithm is lent.
struct agent_context {
  std::int64_t self = 0;
  std::span<float> params;
  std::span<const float> grads;
  std::vector<std::size_t> tensor_sizes;  // partition params; empty = one tensor
  std::uint64_t seed = 0;
};

// A message on its way out: its header and a payload that the messages of
// this round to other peers may share (the runtime encodes a shared payload
// once; see codec.hpp's encoded_payload).
struct outgoing_frame {
  frame_header header;
  std::shared_ptr<const payload> body;
};

class algorithm {
 public:
  // REQUIRES: params.size() == grads.size(); tensor_sizes sum to params.size();
  // the spans outlive the algorithm.
  explicit algorithm(agent_context context);
  virtual ~algorithm() = default;
  algorithm(const algorithm&) = delete;
  algorithm& operator=(const algorithm&) = delete;

  virtual std::string name() const = 0;

  // Starts a round. REQUIRES: the previous round reached `done`.
  void begin_round(round_plan plan);
  // The current step (the same until `complete()`).
  const request& next();
  // The current step is finished. `loss` is the batch loss for `gradient`.
  void complete(double loss = 0);

  std::vector<outgoing_frame> take_outgoing();
  // Checks the receiver and drops a second copy of any (sender, round, kind)
  // of the last dedup_window rounds (counted as ignored) before on_message.
  void receive(frame message);
  static constexpr std::uint64_t dedup_window = 64;

  // What the runtime waits for, asked rather than tracked by the runtime:
  // the peers of the current exchange whose message of this round (and of
  // the awaited kind) has not arrived yet (empty: nothing to wait for).
  std::vector<std::int64_t> waiting_for() const;
  // The newest round any message of `peer` carried (async staleness bound).
  std::optional<std::uint64_t> latest_round_of(std::int64_t peer) const;

  // NGM: the neighbours' models to differentiate on the local batch.
  virtual std::vector<std::pair<std::int64_t, std::span<const float>>> neighbor_models() const { return {}; }
  virtual void cross_gradient(std::int64_t /*peer*/, std::span<const float> /*g*/) {}
  // CCL: per-class feature sums (classes x features) and counts of the local
  // batch under the own model (peer == self) or a neighbour's model.
  virtual void class_summary(std::int64_t /*peer*/, std::span<const float> /*sums*/,
                             std::span<const float> /*counts*/) {}

  // CCL: the class prototypes of this round (classes x features), once the
  // feature exchange is over; empty for other algorithms.
  virtual std::span<const float> prototypes() const { return {}; }
  // Push-sum family: the numerator x and weight w (mass); others: params, 1.
  virtual std::span<const float> numerator() const { return params_; }
  virtual double push_sum_weight() const { return 1.0; }

  // Saves or restores (state.hpp) what a checkpoint needs to continue this
  // algorithm: the base's generator, sequence and peers' latest rounds, then
  // the algorithm's own (on_state). The parameters themselves are the
  // model's and are saved with it.
  void state(state_io& io);

  std::span<float> params() { return params_; }
  std::int64_t self() const { return self_; }
  const round_plan& plan() const { return plan_; }
  const protocol_counters& counters() const { return counters_; }
  double last_loss() const { return loss_; }

 protected:
  // The steps of this round, in order (called by begin_round).
  virtual std::vector<request> plan_steps() = 0;
  // Called when a step becomes current and when it completes.
  virtual void on_start(const request&) {}
  virtual void on_finish(const request&) = 0;
  // Called for a message that passed the generic checks (receiver, dimension
  // for model-sized payloads is the algorithm's own business).
  virtual void on_message(frame message) = 0;
  // The algorithm's own state between rounds (see state()).
  virtual void on_state(state_io&) {}

  // Queues a message to `peer` (fills sender, receiver, sequence, and the
  // round: this round unless `round` says otherwise, as for a reply).
  void send(std::int64_t peer, message_kind kind, payload body, double scalar = 1.0,
            std::optional<std::uint64_t> round = std::nullopt);
  // The same payload to several peers: queued once, encoded once.
  void send(std::int64_t peer, message_kind kind, std::shared_ptr<const payload> body, double scalar = 1.0,
            std::optional<std::uint64_t> round = std::nullopt);
  std::span<const float> grads() const { return grads_; }
  // This round's in-neighbours (the peers an exchange of the plan awaits).
  std::vector<std::int64_t> in_peers() const;
  std::span<const std::size_t> tensor_sizes() const { return tensor_sizes_; }
  common::rng& gen() { return gen_; }
  protocol_counters& stats() { return counters_; }
  // Notes the staleness of a message of round `r` used now.
  void used_message_of(std::uint64_t r);
  round_plan& mutable_plan() { return plan_; }
  std::uint64_t next_sequence();

 private:
  std::int64_t self_;
  std::span<float> params_;
  std::span<const float> grads_;
  std::vector<std::size_t> tensor_sizes_;
  common::rng gen_;
  round_plan plan_;
  std::vector<request> steps_;
  std::size_t step_ = 0;
  bool started_ = false;
  std::vector<outgoing_frame> outgoing_;
  std::uint64_t sequence_ = 0;
  // Who was heard from: (round, kind) -> senders, for rounds from
  // dedup_window back on (older ones are dropped each round); newest round per peer.
  std::map<std::pair<std::uint64_t, message_kind>, std::set<std::int64_t>> heard_;
  std::map<std::int64_t, std::uint64_t> latest_;
  protocol_counters counters_;
  double loss_ = 0;
};

}  // namespace murmur::protocols
