#pragma once

// One run of N agents: data, partition, schedule, ZeroMQ transport, the agent
// actors and the monitor, from `settings`. With network.processes = P the
// agents a with a mod P = rank run here; process 0 also runs the monitor
// (the others forward their agents' reports to it) and returns the summary.

#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "murmur/actors/profile.hpp"
#include "murmur/actors/settings.hpp"
#include "murmur/actors/world.hpp"
#include "murmur/common/clock.hpp"
#include "murmur/common/result.hpp"

namespace murmur::actors {

struct evaluation {
  std::uint64_t round = 0;
  double epoch = 0, wall_time_s = 0;
  double average_accuracy = 0;      // of the averaged model, full test set
  double mean_agent_accuracy = -1;  // mean of the agents' own models (-1: not evaluated)
  double consensus_distance = 0, train_loss = 0;
  std::uint64_t bytes_sent = 0, messages_dropped = 0, messages_rejected = 0;
};

// Consensus control's totals (topology.consensus_max_steps > 0).
struct consensus_summary {
  std::int64_t training_steps = 0;      // steps that were controlled (each had at least its own gossip round)
  std::int64_t extra_gossip_steps = 0;  // gossip rounds added to meet the targets
  std::int64_t capped_steps = 0;        // steps that ran every slot (the cap, not the target, ended them)
  double last_distance = 0;             // the latest distance measured
};

struct run_summary {
  std::vector<evaluation> evaluations;
  std::vector<std::string> resumed;  // per local agent restored: "agent K from round R" (or "... at x^0")
  std::int64_t agents = 0, rounds = 0, rounds_per_epoch = 0;
  double wall_time_s = 0;
  // What this process refused: by reason (rejection_names) and by peer process.
  std::map<std::string, std::uint64_t> rejected;
  std::map<std::string, std::map<std::string, std::uint64_t>> rejected_from;  // reason -> peer -> count
  std::string rejected_text;                                                  // one line, or "none"
  bool interrupted = false;
  run_profile profile;  // where the time went (process 0: every agent's; profile.hpp)
  consensus_summary consensus;
};

struct run_io {
  std::FILE* metrics = nullptr;  // the monitor's JSON Lines (nullptr: none)
  std::FILE* records = nullptr;  // this process's agents' records and fault events, JSON Lines (nullptr: none)
  // Continue from the agents' checkpoints ([checkpoint]): each local agent
  // restores its file (one without a file starts at x^0) and rejoins the
  // others at their round.
  bool resume = false;
  std::function<void(const evaluation&)> on_eval;               // after each evaluation (from the monitor's thread)
  std::function<void(std::int64_t, std::int64_t)> on_progress;  // (agent rounds done, total), from the caller's thread
  const std::atomic<bool>* interrupt = nullptr;                 // set (e.g. by SIGINT) to stop and drain
  const common::clock* clock = nullptr;                         // nullptr: steady clock
  std::string run_id;                                           // names inproc/ipc endpoints (default: the pid)
  std::int64_t rank = 0;  // this process, of network.processes (0 runs the monitor)
  // The run's processes, endpoints, keys and placement (world.hpp); nullptr:
  // one process (a fresh key pair when it uses tcp or ipc), or REQUIRES
  // network.processes = 1.
  const world* where = nullptr;
};

common::result<run_summary> run(const settings& s, const run_io& io);

}  // namespace murmur::actors
