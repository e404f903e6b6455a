#pragma once

// Everything one run needs, as plain structs (DESIGN.md: TOML is parsed once,
// in app/, into these; lower layers never see TOML). Every field's key,
// default, range and meaning are declared once, in app/settings_schema.cpp,
// from which the parser, the resolved configuration and
// configs/reference.toml all come.

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/common/enum_names.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"
#include "murmur/nn/partition.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/protocols/consensus.hpp"
#include "murmur/protocols/plan.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::actors {

enum class run_mode { sync, async };
inline constexpr common::enum_name<run_mode> run_mode_names[] = {{run_mode::sync, "sync"}, {run_mode::async, "async"}};
constexpr std::span<const common::enum_name<run_mode>> names_of(run_mode) { return run_mode_names; }

struct run_settings {
  std::uint64_t seed = 1;
  double epochs = 5;        // epochs of each agent's shard; ignored when rounds > 0
  std::int64_t rounds = 0;  // total rounds (0: from epochs)
  // Rounds of gossip only (no gradient step, the last learning rate) after
  // training, as the GUT code's gossip_avg does (51) before its final accuracy.
  std::int64_t gossip_tail = 0;
  run_mode mode = run_mode::sync;
  std::int64_t max_staleness = 4;  // async: wait (up to the timeout) once a peer is this many rounds behind; -1: never
  int threads = 0;                 // scheduler threads (0: the cores of the machine)
  bool operator==(const run_settings&) const = default;
};

struct data_settings {
  std::string dataset = "fashion-mnist";
  std::string path;  // directory (empty: the Debian location for fashion-mnist)
  nn::partition_options partition{.scheme = nn::partition_scheme::dirichlet, .alpha = 0.1};
  std::int64_t batch = 32;
  bool augment = false;
  std::int64_t train_limit = 0;  // use only the first N training samples (0: all), for quick runs
  std::string partition_file;    // the agents' sample indices from a file (JSON or .npy; "": data.partition)
  bool operator==(const data_settings&) const = default;
};

struct model_settings {
  std::string name = "lenet5";
  nn::norm_kind norm = nn::norm_kind::batchnorm;
  std::int64_t groups = 0, chunks = 16;
  nn::precision precision = nn::precision::f32;
  bool operator==(const model_settings&) const = default;
};

// The algorithm by its registry name (protocols/registry.hpp) and the
// [protocol] values the configuration gave; the entry's defaults fill in the rest.
struct protocol_settings {
  std::string algorithm = "dsgd";
  protocols::option_values options;
  // Equal when they run the same: the same algorithm with the same value of
  // each of its options, given or defaulted.
  bool operator==(const protocol_settings& o) const {
    if (algorithm != o.algorithm) return false;
    const auto* entry = protocols::find_algorithm(algorithm);
    if (!entry) return options == o.options;
    for (const auto& spec : entry->options)
      if (entry->value_of(options, spec.name) != entry->value_of(o.options, spec.name)) return false;
    return true;
  }
};

struct topology_settings {
  std::string kind = "ring";  // the graph of `murmur topology --kind`
  std::int64_t agents = 16;
  protocols::weight_rule weights = protocols::weight_rule::automatic;
  std::int64_t degree = 2;               // random-peers / regular
  double p = 0.3;                        // erdos-renyi
  std::string file;                      // edges
  std::int64_t exact_average_every = 0;  // periodic exact averaging: the complete graph every τ rounds (0: never)
  // Gossip rounds per training step: the step's own and mixes_per_step - 1
  // gossip-only rounds after it, each on the schedule's next graph (the SGP
  // code's AD-PSGD gossip process, which mixes repeatedly between steps).
  std::int64_t mixes_per_step = 1;
  // Consensus control (Kong et al. 2021): extra gossip steps after each
  // training step until the consensus distance meets its phase's target.
  // Empty milestones with several targets: the phases are the lr schedule's.
  protocols::consensus_control consensus;
  bool operator==(const topology_settings&) const = default;
};

enum class transport_kind { inproc, ipc, tcp };
inline constexpr common::enum_name<transport_kind> transport_kind_names[] = {
    {transport_kind::inproc, "inproc"}, {transport_kind::ipc, "ipc"}, {transport_kind::tcp, "tcp"}};
constexpr std::span<const common::enum_name<transport_kind>> names_of(transport_kind) { return transport_kind_names; }

// How agents are spread over processes: contiguous ranges, or a mod P.
enum class placement_kind { block, round_robin };
inline constexpr common::enum_name<placement_kind> placement_kind_names[] = {
    {placement_kind::block, "block"}, {placement_kind::round_robin, "round-robin"}};
constexpr std::span<const common::enum_name<placement_kind>> names_of(placement_kind) { return placement_kind_names; }

struct network_settings {
  transport_kind transport = transport_kind::inproc;
  std::string host = "127.0.0.1";
  int base_port = 27500;       // tcp: process k binds base_port + k (launched: + its local rank)
  int queue = 64;              // frames queued per link before new ones are dropped
  double timeout_ms = 2000;    // sync mode: how long to wait for in-neighbours
  std::int64_t processes = 1;  // local processes (tcp loopback)
  placement_kind placement = placement_kind::round_robin;
  bool curve = true;       // tcp and ipc links authenticated and encrypted (ZeroMQ CURVE)
  std::string keys;        // directory of the processes' keys (murmur keygen); "": made per run
  std::string interface;   // launched runs: advertise this interface's IPv4 address ("": first non-loopback)
  std::string rendezvous;  // launched without PMIx: host:port that rank 0 serves
  double rendezvous_timeout_s = 120;
  std::int64_t window = 16;     // rounds ahead of an agent's own that it accepts frames for
  std::int64_t down_after = 3;  // sync: an in-neighbour silent this many rounds in a row is not waited for (0: never)
  bool operator==(const network_settings&) const = default;
};

// Groups of agents cut off from each other in rounds [from, to); agents in
// no group form one more group.
struct partition_window {
  std::int64_t from = 0, to = 0;
  std::vector<std::vector<std::int64_t>> groups;
  bool operator==(const partition_window&) const = default;
};

// An agent that stops at `round` (its state is lost) and comes back
// `restart_after` rounds later (-1: never), from its checkpoint if it has one.
struct crash_fault {
  std::int64_t agent = 0, round = 0, restart_after = -1;
  bool operator==(const crash_fault&) const = default;
};

// A link (both directions) down for `down` rounds of every `period`, in
// rounds [from, to) (to = -1: to the end).
struct flap_fault {
  std::int64_t a = 0, b = 0, period = 10, down = 5, from = 0, to = -1;
  bool operator==(const flap_fault&) const = default;
};

struct fault_settings {
  double drop = 0;                       // probability per frame
  double delay_ms = 0;                   // fixed delay per frame
  double jitter_ms = 0;                  // + uniform [0, jitter)
  double duplicate = 0;                  // probability a frame is sent twice
  double reorder = 0;                    // probability a frame is held back by an extra jitter
  double bandwidth_mbps = 0;             // per link; 0: unlimited
  std::vector<std::int64_t> stragglers;  // agents that compute slower
  double slowdown = 1.0;                 // their compute time factor
  std::vector<partition_window> partitions;
  std::vector<crash_fault> crashes;
  double churn = 0;  // probability an agent sits a round out (gossipy's churn), drawn per (agent, round)
  std::vector<flap_fault> flaps;
  std::uint64_t seed = 7;
  bool operator==(const fault_settings&) const = default;
};

// Each agent's state (model, optimizer, protocol state, round) every
// `every` rounds, as safetensors written atomically.
struct checkpoint_settings {
  std::int64_t every = 0;  // rounds (0: no checkpoints)
  std::string directory;   // "": <output.directory>/checkpoints
  bool operator==(const checkpoint_settings&) const = default;
};

struct output_settings {
  std::string directory = "out/run";
  double eval_every_epochs = 1.0;  // evaluation interval
  std::int64_t eval_samples = 0;   // test samples for each agent's own model (0: all)
  bool progress = true;
  bool operator==(const output_settings&) const = default;
};

struct settings {
  run_settings run;
  data_settings data;
  model_settings model;
  protocols::sgd_options optimizer{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  nn::lr_schedule schedule{.base_lr = 0.05};
  protocol_settings protocol;
  topology_settings topology;
  network_settings network;
  fault_settings faults;
  checkpoint_settings checkpoint;
  output_settings output;
  bool operator==(const settings&) const = default;
};

}  // namespace murmur::actors
