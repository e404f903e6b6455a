#include "murmur/actors/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "agent_actor.hpp"
#include "consensus_actor.hpp"
#include "gate.hpp"
#include "monitor_actor.hpp"
#include "murmur/nn/dataset.hpp"
#include "murmur/topology/catalogue.hpp"
#include "records.hpp"
#include "remote.hpp"
#include "router.hpp"

namespace murmur::actors {
namespace {

using common::errc;
using common::make_error;

// Consensus control's barrier is the process's (one controller sees every
// model each round): what would leave it waiting, or skip rounds under it, is refused.
common::status check_consensus(const settings& s, const protocols::algorithm_entry& entry) {
  const auto& c = s.topology.consensus;
  if (auto ok = c.validate(); !ok) return make_error(errc::invalid_argument, "[topology] " + ok.err().message);
  if (!c.active()) return {};
  if (s.topology.mixes_per_step > 1)
    return make_error(errc::invalid_argument,
                      "[topology] consensus_max_steps > 0 (consensus control) and mixes_per_step > 1 do not combine: "
                      "control decides the gossip rounds of each step");
  const auto refuse = [](const std::string& why) {
    return make_error(errc::invalid_argument, "[topology] consensus_max_steps > 0 (consensus control) " + why);
  };
  if (!entry.graph.exact_rounds)
    return refuse("needs an algorithm whose gossip-only rounds are plain gossip (dsgd, push-sum); \"" + entry.name +
                  "\" is not one");
  if (s.network.processes > 1) return refuse("runs in one process ([network] processes = 1)");
  if (s.run.mode != run_mode::sync) return refuse("needs [run] mode = \"sync\"");
  if (s.topology.exact_average_every > 0) return refuse("does not combine with exact_average_every");
  if (s.checkpoint.every > 0)
    return refuse(
        "does not combine with [checkpoint] every (a resumed run would not know its gossip rounds' verdicts)");
  if (!s.faults.crashes.empty() || s.faults.churn > 0)
    return refuse(
        "does not combine with [faults] crashes or churn (an away agent would hold every agent at its barrier)");
  return {};
}

common::status check_topology(const settings& s, const topology::schedule& schedule) {
  // Every round's graph must take the configured weights (checked on the
  // first rounds; schedules keep their kind).
  for (std::int64_t t = 0; t < 4; ++t) {
    auto w = protocols::weights_for(schedule.at(t), s.topology.weights);
    if (!w) return make_error(errc::invalid_argument, "[topology] weights: " + w.err().message);
  }
  // The graph proper: the first round that is not one of exact averaging.
  std::int64_t first = 0;
  while (first < 64 && schedule.exact_average(first)) ++first;
  const auto g = schedule.at(first);
  const auto& entry = algorithm_of(s);
  if (s.topology.exact_average_every > 0 && !entry.graph.exact_rounds)
    return make_error(errc::invalid_argument,
                      "[topology] exact_average_every: algorithm \"" + entry.name +
                          "\" cannot take rounds on the complete graph (dsgd and push-sum can)");
  if (auto ok = check_consensus(s, entry); !ok) return ok;
  const auto needs = "[protocol] algorithm = \"" + entry.name + "\" needs ";
  if (entry.graph.undirected && g.directed())
    return make_error(errc::invalid_argument,
                      needs + "an undirected graph; [topology] kind = \"" + s.topology.kind + "\" is directed");
  if (entry.graph.spanning_tree && g.edge_count() != g.size() - 1 &&
      (entry.graph.trees_kind.empty() || s.topology.kind != entry.graph.trees_kind))
    return make_error(
        errc::invalid_argument,
        needs + "a spanning tree (chain or binary-tree)" +
            (entry.graph.trees_kind.empty() ? "" : " or [topology] kind = \"" + entry.graph.trees_kind + "\""));
  if (!entry.graph.schedule.empty() && s.topology.kind != entry.graph.schedule)
    return make_error(errc::invalid_argument, needs + "[topology] kind = \"" + entry.graph.schedule + "\"");
  return {};
}

}  // namespace

common::result<run_summary> run(const settings& s, const run_io& io) {
  common::steady_clock steady;
  const common::clock& clock = io.clock ? *io.clock : steady;
  const double start = clock.now_s();
  const auto n = s.topology.agents;
  const std::string run_id = io.run_id.empty() ? std::to_string(::getpid()) : io.run_id;
  world alone;
  const world* where = io.where;
  if (!where) {
    if (s.network.processes > 1)
      return make_error(errc::invalid_argument, "a run of several processes needs their endpoints and keys");
    std::optional<key_set> keys;
    if (s.network.curve && s.network.transport != transport_kind::inproc) {
      keys.emplace();
      keys->own = new_keypair();
      keys->publics = {keys->own.public_key};
    }
    alone = local_world(s, run_id, io.rank, std::move(keys));
    where = &alone;
  }
  const auto processes = where->size, rank = where->rank;
  if (processes > 1 && s.network.transport == transport_kind::inproc)
    return make_error(errc::invalid_argument, "[network] processes = " + std::to_string(processes) +
                                                  " needs transport \"tcp\" or \"ipc\" (inproc stays in one process)");
  if (rank < 0 || rank >= processes)
    return make_error(errc::invalid_argument, "rank " + std::to_string(rank) + " is not in 0 .. processes - 1");
  if (static_cast<std::int64_t>(where->home.size()) != n ||
      static_cast<std::int64_t>(where->endpoints.size()) != processes)
    return make_error(errc::internal, "the run's placement or endpoints do not match its agents and processes");

  auto data = nn::load_dataset(s.data.dataset, s.data.path);
  if (!data) return data.err();
  auto& train = data->train;
  if (s.data.train_limit > 0 && s.data.train_limit < train.size()) {
    train.labels.resize(static_cast<std::size_t>(s.data.train_limit));
    train.images.resize(static_cast<std::size_t>(s.data.train_limit * train.sample_bytes()));
  }
  auto popts = s.data.partition;
  popts.agents = n;
  popts.seed = s.run.seed;
  auto parts = s.data.partition_file.empty() ? nn::make_partition(train.labels, train.classes, popts)
                                             : nn::read_partition_file(s.data.partition_file, train.size(), n);
  if (!parts) return parts.err();

  auto schedule = topology::make_schedule({.kind = s.topology.kind,
                                           .n = n,
                                           .degree = s.topology.degree,
                                           .p = s.topology.p,
                                           .seed = s.run.seed,
                                           .file = s.topology.file,
                                           .exact_average_every = s.topology.exact_average_every});
  if (!schedule) return make_error(schedule.err().code, "[topology] " + schedule.err().message);
  if ((*schedule)->size() != n)
    return make_error(errc::invalid_argument, "[topology] the graph has " + std::to_string((*schedule)->size()) +
                                                  " agents, agents = " + std::to_string(n));
  if (auto ok = check_topology(s, **schedule); !ok) return ok.err();
  if (auto ok = check_faults(s.faults, n); !ok) return ok.err();
  const fault_schedule faults(s.faults, n);

  std::size_t smallest = train.labels.size();
  for (const auto& shard : parts->shards) smallest = std::min(smallest, shard.size());
  if (smallest == 0) return make_error(errc::invalid_argument, "[data] an agent's shard is empty");
  shared_run shared;
  shared.cfg = &s;
  shared.train = &train;
  shared.test = &data->test;
  shared.schedule = schedule->get();
  shared.agents = n;
  shared.rounds_per_epoch = static_cast<std::int64_t>((smallest + s.data.batch - 1) / s.data.batch);
  shared.training_rounds =
      s.run.rounds > 0 ? s.run.rounds : static_cast<std::int64_t>(std::ceil(s.run.epochs * shared.rounds_per_epoch));
  shared.slots = protocols::rounds_per_step(s.topology.consensus, s.topology.mixes_per_step);
  shared.rounds = shared.training_rounds * static_cast<std::int64_t>(shared.slots) + s.run.gossip_tail;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // The processes share the cores; each runs its share of the agents.
  std::vector<std::int64_t> local;
  for (std::int64_t i = 0; i < n; ++i)
    if (where->home[static_cast<std::size_t>(i)] == rank) local.push_back(i);
  const auto nlocal = static_cast<std::int64_t>(local.size());
  const int share = std::max(1, cores / static_cast<int>(processes));
  // The scheduler threads of a process with `agents` agents: run.threads or its share of the cores.
  const auto threads_for = [&](std::int64_t agents) {
    return std::max<std::int64_t>(1, std::min<std::int64_t>(s.run.threads > 0 ? s.run.threads : share, agents));
  };
  const int threads = static_cast<int>(threads_for(nlocal));
  shared.model_threads = std::max(1, share / static_cast<int>(std::max<std::int64_t>(nlocal, 1)));
  std::atomic<std::int64_t> rounds_done{0};
  shared.rounds_done = &rounds_done;
  shared.clock = &clock;

  // Agents (each builds its model; the same x^0 everywhere).
  std::vector<std::unique_ptr<agent_core>> cores_;
  for (auto i : local) {
    auto a = agent_core::create(i, shared, parts->shards[static_cast<std::size_t>(i)]);
    if (!a) return a.err();
    cores_.push_back(std::move(*a));
  }
  // Checkpoints: one file per agent, replaced atomically every `every` rounds.
  const std::filesystem::path checkpoints = s.checkpoint.directory.empty()
                                                ? std::filesystem::path(s.output.directory) / "checkpoints"
                                                : std::filesystem::path(s.checkpoint.directory);
  const auto checkpoint_of = [&](std::int64_t i) {
    return (checkpoints / ("agent-" + std::to_string(i) + ".safetensors")).string();
  };
  if (s.checkpoint.every > 0) {
    std::error_code ec;
    std::filesystem::create_directories(checkpoints, ec);
    if (ec) return make_error(errc::io, "[checkpoint] directory " + checkpoints.string() + ": " + ec.message());
  }
  std::vector<std::string> resumed;
  if (io.resume) {
    if (s.checkpoint.every <= 0)
      return make_error(errc::invalid_argument, "--resume needs [checkpoint] every > 0 (the run saves none)");
    for (auto& a : cores_) {
      const auto path = checkpoint_of(a->id());
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        resumed.push_back("agent " + std::to_string(a->id()) + " at x^0 (no " + path + ")");
        continue;
      }
      auto r = a->load_checkpoint(path);
      if (!r) return make_error(r.err().code, "--resume: " + r.err().message);
      rounds_done += static_cast<std::int64_t>(*r);
      resumed.push_back("agent " + std::to_string(a->id()) + " from round " + std::to_string(*r));
    }
  }

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(threads));
  caf::actor_system sys{cfg};

  // The averaged model's evaluator; its size bounds the frames.
  auto margs = std::make_shared<monitor_args>();
  margs->agents = n;
  margs->rounds = shared.rounds;
  {
    auto m = nn::build_model(model_spec_for(s.model, train), 1);
    if (!m) return m.err();
    margs->model = std::move(*m);
    margs->model->init(s.run.seed);
  }
  // The largest frame is a model-sized payload: a report's f32 model, or a
  // sparse one with an index per value; anything larger is refused.
  const std::size_t max_frame = 2 * sizeof(float) * margs->model->parameters().size() + (64 << 10);

  // Frames reach the process's actors through the router (it keeps those
  // that arrive before their actor is spawned, and bounds every inbox).
  rejection_table rejections(processes);
  std::int64_t max_degree = 0;
  for (std::int64_t t = 0; t < 4; ++t) {
    const auto g = (*schedule)->at(t);
    for (std::int64_t i = 0; i < n; ++i) max_degree = std::max(max_degree, g.in_degree(i) + g.out_degree(i));
  }
  const auto inbox = static_cast<std::size_t>(std::max<std::int64_t>(256, 16 * (max_degree + 1)));
  auto routes = std::make_shared<router>(n, processes, &rejections, inbox);
  auto net =
      make_zmq_transport({.where = *where,
                          .net = s.network,
                          .agents = n,
                          .max_frame = max_frame,
                          .rejections = &rejections,
                          .deliver = [routes](std::int64_t to, wire_bytes w) { routes->deliver(to, std::move(w)); }});
  if (!net) return net.err();

  run_summary summary;
  summary.resumed = std::move(resumed);
  record_log records(io.records);
  if (faults.active()) {
    // The windows of the fault schedule, for plots and tables.
    for (const auto& p : s.faults.partitions) {
      nlohmann::json groups = p.groups;
      records.write({{"event", "partition"}, {"process", rank}, {"from", p.from}, {"to", p.to}, {"groups", groups}});
    }
    for (const auto& c : s.faults.crashes)
      if (where->home[static_cast<std::size_t>(c.agent)] == rank)
        records.write(
            {{"event", "crash_scheduled"}, {"agent", c.agent}, {"round", c.round}, {"restart_after", c.restart_after}});
  }
  summary.agents = n;
  summary.rounds = shared.rounds;
  summary.rounds_per_epoch = shared.rounds_per_epoch;
  std::mutex mu;
  run_gate gate;
  std::atomic<bool> local_done{false};  // (process > 0) this process's agents have finished
  margs->routes = routes.get();
  margs->test = &data->test;
  margs->metrics = io.metrics;
  margs->clock = &clock;
  margs->start_s = start;
  margs->profile = &summary.profile;
  margs->on_record = [&](const evaluation& e) {
    {
      std::lock_guard lock(mu);
      summary.evaluations.push_back(e);
    }
    if (io.on_eval) io.on_eval(e);
  };
  margs->on_finished = [&, t = net->get()] {
    // Every agent has finished: the other processes may close.
    for (std::int64_t r = 1; r < processes; ++r) t->send(n, n + r, encode_over(n, n + r));
    gate.open();
  };
  caf::actor monitor;
  if (rank == 0) {
    monitor = sys.spawn(monitor_actor, margs);
  } else {
    auto rargs = std::make_shared<relay_args>();
    rargs->net = net->get();
    rargs->routes = routes.get();
    rargs->monitor_id = n;
    rargs->relay_id = n + rank;
    rargs->local_agents = nlocal;
    rargs->on_all_finished = [&] { local_done = true; };
    rargs->on_over = [&] { gate.open(); };
    monitor = sys.spawn(relay_actor, rargs);
  }
  routes->attach(n + rank, monitor);
  std::mutex died_mu;
  std::string died, failed;  // an actor that stopped; an agent that failed (non-finite parameters)
  const auto fail = [&](std::string why) {
    {
      std::lock_guard lock(died_mu);
      if (failed.empty()) failed = std::move(why);
    }
    gate.open();
  };
  caf::actor controller;
  if (s.topology.consensus.active()) {
    auto cargs = std::make_shared<consensus_args>();
    cargs->agents = n;
    cargs->control = s.topology.consensus;
    cargs->rounds_per_epoch = shared.rounds_per_epoch;
    cargs->log = &records;
    cargs->clock = &clock;
    cargs->start_s = start;
    cargs->summary = &summary.consensus;
    controller = sys.spawn(consensus_actor, cargs);
  }
  std::vector<caf::actor> agents;
  for (std::size_t k = 0; k < local.size(); ++k) {
    const auto i = local[k];
    auto args = std::make_shared<agent_args>();
    args->core = std::move(cores_[k]);
    args->net = net->get();
    args->routes = routes.get();
    args->rejections = &rejections;
    args->fail = fail;
    args->monitor = monitor;
    args->controller = controller;
    args->cfg = &s;
    args->clock = &clock;
    args->schedule = faults.active() ? &faults : nullptr;
    args->log = &records;
    args->start_s = start;
    if (s.checkpoint.every > 0) args->checkpoint = checkpoint_of(i);
    args->rebuild = [&shared, shard = parts->shards[static_cast<std::size_t>(i)], i] {
      return agent_core::create(i, shared, shard);
    };
    args->rejoin = io.resume;
    agents.push_back(sys.spawn(agent_actor, args));
    routes->attach(i, agents.back());
  }
  summary.profile.setup_seconds = clock.now_s() - start;
  // The scheduler threads of every process of the run (each runs this rule on its own agents).
  for (std::int64_t r = 0; r < processes; ++r)
    summary.profile.threads += threads_for(std::count(where->home.begin(), where->home.end(), r));
  for (const auto& a : agents) caf::anon_send(a, start_atom::value);

  // An agent or the monitor that dies (an exception, say) ends the run with
  // its reason instead of leaving the others waiting for it.
  const auto watch = [&](const caf::actor& h) {
    h->attach_functor([&, &sys = sys](const caf::error& reason) {
      if (!reason || reason == caf::exit_reason::user_shutdown) return;
      {
        std::lock_guard lock(died_mu);
        if (died.empty()) died = sys.render(reason);
      }
      gate.open();
    });
  };
  for (const auto& a : agents) watch(a);
  watch(monitor);
  if (controller) watch(controller);
  // The run's thread waits on the gate. It wakes every 100 ms only to show
  // progress, pass on an interrupt (agents finish the round in flight, report
  // and stop) and bound the drain: after a stop, or once this process's agents
  // are done, a peer process that died would otherwise be waited for forever.
  std::optional<double> drain_since;
  const double drain_limit = 3 * s.network.timeout_ms * 1e-3 + 10;
  while (!gate.wait_for(std::chrono::milliseconds(100))) {
    if (io.on_progress) io.on_progress(rounds_done.load(), shared.rounds * n);
    if (!summary.interrupted && io.interrupt && io.interrupt->load()) {
      for (const auto& a : agents) caf::anon_send(a, stop_atom::value);
      summary.interrupted = true;
      if (!drain_since) drain_since = clock.now_s();
    }
    if (!drain_since && local_done) drain_since = clock.now_s();
    if (drain_since && clock.now_s() - *drain_since > drain_limit) break;
  }
  for (auto& h : routes->detach_all()) caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  if (controller) caf::anon_send_exit(controller, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  (*net)->close();
  if (std::lock_guard lock(died_mu); !failed.empty()) return make_error(errc::mismatch, failed);
  if (std::lock_guard lock(died_mu); !died.empty())
    return make_error(errc::internal, "an actor of the run stopped: " + died);
  for (const auto& r : rejection_names) {
    if (const auto t = rejections.total(r.value)) summary.rejected[std::string(r.name)] = t;
    auto& by = summary.rejected_from[std::string(r.name)];
    if (r.value == rejection::auth) {
      for (const auto& [addr, c] : rejections.auth_addresses()) by[addr] = c;
    } else {
      if (const auto c = rejections.from(r.value, -1)) by["unauthenticated"] = c;
      for (std::int64_t p = 0; p < processes; ++p)
        if (const auto c = rejections.from(r.value, p)) by["process " + std::to_string(p)] = c;
    }
    if (by.empty()) summary.rejected_from.erase(std::string(r.name));
  }
  summary.rejected_text = rejections.describe();
  summary.wall_time_s = clock.now_s() - start;
  return summary;
}

}  // namespace murmur::actors
