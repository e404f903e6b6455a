// murmur run CONFIG.toml: a decentralized training run from one TOML file.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "config.hpp"
#include "murmur/actors/launch.hpp"
#include "murmur/actors/runtime.hpp"
#include "murmur/actors/world.hpp"
#include "profile_table.hpp"
#include "terminal.hpp"

namespace murmur::app {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_sigint(int) { interrupted = true; }

struct run_args {
  std::string config;
  std::vector<std::string> overrides;
  std::int64_t processes = 0;  // 0: as configured
  std::int64_t child = 0;      // set by the parent of a --processes run for its children
  std::string run_id;
  bool help_config = false;
  std::int64_t rank = -1, world = -1;  // a process of a launched run (launch.hpp)
  std::string rendezvous, hostfile;
  bool resume = false, profile = false;
};

using file_ptr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// This process's records (its agents' reports and fault events):
// <output>/process-K.jsonl, appended to when the run resumes.
common::result<file_ptr> open_records(const actors::settings& s, std::int64_t rank, bool resume) {
  std::error_code ec;
  std::filesystem::create_directories(s.output.directory, ec);
  if (ec) return common::make_error(common::errc::io, "[output] directory " + s.output.directory + ": " + ec.message());
  const auto path =
      (std::filesystem::path(s.output.directory) / ("process-" + std::to_string(rank) + ".jsonl")).string();
  file_ptr f(std::fopen(path.c_str(), resume ? "a" : "w"), &std::fclose);
  if (!f) return common::make_error(common::errc::io, "cannot write " + path);
  return f;
}

void print_resumed(const actors::run_summary& r, std::int64_t rank) {
  for (const auto& line : r.resumed)
    std::fprintf(stderr, "murmur: process %lld resumed %s\n", static_cast<long long>(rank), line.c_str());
}

// The children of a --processes run learn their keys from the environment
// (readable only by this user): their own pair and every public key.
constexpr const char* secret_env = "MURMUR_CURVE_SECRET";
constexpr const char* publics_env = "MURMUR_CURVE_PUBLICS";

// Starts processes 1 .. P-1 of this run: the same binary, configuration and
// overrides, with --child k, and (`keys`) each its key pair. Returns their pids.
std::vector<pid_t> spawn_ranks(const run_args& a, std::int64_t processes, const std::string& run_id,
                               const std::vector<actors::curve_keypair>& keys) {
  std::vector<pid_t> pids;
  std::string publics;
  for (const auto& k : keys) publics += (publics.empty() ? "" : ",") + k.public_key;
  for (std::int64_t k = 1; k < processes; ++k) {
    std::vector<std::string> args{"murmur", "run", a.config};
    for (const auto& o : a.overrides) args.insert(args.end(), {"--set", o});
    args.insert(args.end(), {"--set", "output.progress=false", "--child", std::to_string(k), "--run-id", run_id});
    if (a.resume) args.emplace_back("--resume");
    std::vector<char*> argv;
    for (auto& x : args) argv.push_back(x.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "MURMUR_CURVE_", 13) != 0) env.emplace_back(*e);
    if (!keys.empty()) {
      env.push_back(std::string(secret_env) + "=" + keys[static_cast<std::size_t>(k)].secret_key);
      env.push_back(std::string(publics_env) + "=" + publics);
    }
    std::vector<char*> envp;
    for (auto& x : env) envp.push_back(x.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data()) == 0) pids.push_back(pid);
  }
  return pids;
}

// A child's keys from the environment its parent gave it.
common::result<actors::key_set> keys_from_env(std::int64_t rank, std::int64_t processes) {
  const char* own = std::getenv(secret_env);
  const char* all = std::getenv(publics_env);
  if (!own || !all) return common::make_error(common::errc::invalid_argument, "no keys from the parent process");
  // Z85 has no comma: the public keys are a comma-separated list, and this
  // process's own public key is its entry.
  actors::key_set k;
  k.own.secret_key = own;
  std::string list = all;
  for (std::size_t at = 0; at <= list.size();) {
    const auto end = std::min(list.find(',', at), list.size());
    k.publics.push_back(list.substr(at, end - at));
    at = end + 1;
  }
  if (static_cast<std::int64_t>(k.publics.size()) != processes || rank >= processes)
    return common::make_error(common::errc::invalid_argument, "the parent's keys do not match this process");
  k.own.public_key = k.publics[static_cast<std::size_t>(rank)];
  if (!actors::is_curve_key(k.own.secret_key) || !actors::is_curve_key(k.own.public_key))
    return common::make_error(common::errc::invalid_argument, "the parent's keys are not CURVE keys");
  return k;
}

// What the run's processes must agree on: the resolved configuration
// without what may differ between them.
std::string fingerprint(actors::settings s) {
  s.output = {};
  s.network.interface.clear();
  s.network.keys.clear();
  s.network.processes = 1;
  return std::to_string(std::hash<std::string>{}(to_toml(s)));
}

// Watches the children: one that ends with an error stops the run.
class children_watch {
 public:
  explicit children_watch(std::vector<pid_t> pids) : pids_(std::move(pids)) {
    if (!pids_.empty()) thread_ = std::thread([this] { loop(); });
  }
  ~children_watch() { finish(true); }
  // Waits for the children (ending them first with `kill`); false if one failed.
  bool finish(bool kill_them) {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& [pid, done] : state_) {
      if (done) continue;
      if (kill_them) ::kill(pid, SIGTERM);
      int status = 0;
      if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed_ = true;
      done = true;
    }
    return !failed_;
  }

 private:
  void loop() {
    for (auto pid : pids_) state_.emplace_back(pid, false);
    while (!stop_) {
      for (auto& [pid, done] : state_) {
        int status = 0;
        if (done || ::waitpid(pid, &status, WNOHANG) != pid) continue;
        done = true;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          failed_ = true;
          interrupted = true;  // the run cannot finish without that process's agents
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<pid_t> pids_;
  std::vector<std::pair<pid_t, bool>> state_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool failed_ = false;
};

int run(run_args a) {
  if (a.help_config) {
    std::fputs(reference_toml().c_str(), stdout);
    return 0;
  }
  if (a.config.empty()) return fail("run: a CONFIG.toml is required (configs/reference.toml lists every key)");
  if (a.processes > 0) a.overrides.push_back("network.processes=" + std::to_string(a.processes));
  if (!a.rendezvous.empty()) a.overrides.push_back("network.rendezvous=\"" + a.rendezvous + "\"");
  auto s = load_settings(a.config, a.overrides);
  if (!s) return fail(s.err().message);

  // Launched (mpirun, srun, --rank/--world, a hostfile) or local?
  actors::launch_options lo{.rank = a.rank, .world = a.world, .hostfile = a.hostfile, .fingerprint = fingerprint(*s)};
  auto who = a.child > 0 ? common::result<std::optional<actors::launcher>>(std::nullopt) : actors::detect_launcher(lo);
  if (!who) return fail(who.err().message);
  std::optional<actors::world> where;
  const std::string run_id = a.run_id.empty() ? std::to_string(::getpid()) : a.run_id;
  std::vector<actors::curve_keypair> child_keys;  // a --processes parent's, for its children
  if (*who) {
    if (a.processes > 0) return fail("--processes starts local processes; a launcher has started this one");
    s->network.transport = actors::transport_kind::tcp;  // processes of a launched run meet over tcp
    auto w = actors::launched_world(*s, **who, lo);
    if (!w) return fail(w.err().message);
    where = std::move(*w);
    s->network.processes = where->size;
  } else {
    if (s->network.processes > 1 && s->network.transport == actors::transport_kind::inproc) {
      // Processes meet over tcp loopback.
      a.overrides.push_back("network.transport=\"tcp\"");
      s->network.transport = actors::transport_kind::tcp;
    }
    const auto rank = a.child, processes = s->network.processes;
    std::optional<actors::key_set> keys;
    if (s->network.curve && s->network.transport != actors::transport_kind::inproc) {
      if (!s->network.keys.empty()) {
        auto k = actors::read_keys(s->network.keys, rank, processes);
        if (!k) return fail(k.err().message);
        keys = std::move(*k);
      } else if (rank > 0) {
        auto k = keys_from_env(rank, processes);
        if (!k) return fail("process " + std::to_string(rank) + ": " + k.err().message);
        keys = std::move(*k);
      } else {
        // Fresh keys for this run: the parent's own, and one per child.
        keys.emplace();
        for (std::int64_t r = 0; r < processes; ++r) child_keys.push_back(actors::new_keypair());
        keys->own = child_keys[0];
        for (const auto& k : child_keys) keys->publics.push_back(k.public_key);
      }
    }
    where = actors::local_world(*s, run_id, rank, std::move(keys));
    if (rank > 0 || !s->network.keys.empty()) child_keys.clear();
  }
  const auto rank = where->rank;
  if (rank > 0) {
    // Not process 0: its agents only; process 0 reports and writes the output.
    actors::run_io io;
    io.rank = rank;
    io.run_id = run_id;
    io.where = &*where;
    io.interrupt = &interrupted;
    io.resume = a.resume;
    auto records = open_records(*s, rank, a.resume);
    if (!records) return fail("process " + std::to_string(rank) + ": " + records.err().message);
    io.records = records->get();
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    auto r = actors::run(*s, io);
    if (!r) return fail("process " + std::to_string(rank) + ": " + r.err().message);
    print_resumed(*r, rank);
    if (r->rejected_text != "none")
      std::fprintf(stderr, "murmur: process %lld refused: %s\n", static_cast<long long>(rank),
                   r->rejected_text.c_str());
    return 0;
  }
  std::error_code ec;
  std::filesystem::create_directories(s->output.directory, ec);
  if (ec) return fail("[output] directory " + s->output.directory + ": " + ec.message());
  const auto dir = std::filesystem::path(s->output.directory);
  {
    std::ofstream resolved(dir / "config.toml");
    resolved << to_toml(*s);
    if (!resolved) return fail("cannot write " + (dir / "config.toml").string());
  }
  const auto metrics_path = (dir / "metrics.jsonl").string();
  file_ptr metrics(std::fopen(metrics_path.c_str(), a.resume ? "a" : "w"), &std::fclose);
  if (!metrics) return fail("cannot write " + metrics_path);
  auto records = open_records(*s, 0, a.resume);
  if (!records) return fail(records.err().message);

  std::printf("murmur run: %lld agents, %s on %s, %s, %s (%s mode); output in %s\n",
              static_cast<long long>(s->topology.agents), s->protocol.algorithm.c_str(), s->topology.kind.c_str(),
              s->model.name.c_str(), s->data.dataset.c_str(), common::name_of(s->run.mode).data(),
              s->output.directory.c_str());
  if (where->size > 1 || s->network.transport != actors::transport_kind::inproc) {
    std::printf("processes: %lld (%s), links %s; placement %s: %s\n", static_cast<long long>(where->size),
                where->launcher.c_str(), where->key ? "CURVE-authenticated" : "plain (network.curve = false)",
                common::name_of(s->network.placement).data(),
                actors::describe_placement(where->home, where->size).c_str());
    for (std::int64_t r = 0; r < where->size; ++r)
      std::printf("  process %lld at %s\n", static_cast<long long>(r),
                  where->endpoints[static_cast<std::size_t>(r)].c_str());
  }
  std::fflush(stdout);
  progress_line bar;
  const auto pids = who->has_value() ? std::vector<pid_t>{} : spawn_ranks(a, s->network.processes, run_id, child_keys);
  children_watch children(pids);
  if (!who->has_value() && static_cast<std::int64_t>(pids.size()) + 1 < s->network.processes)
    return fail("could not start the other " + std::to_string(s->network.processes - 1) + " processes");
  actors::run_io io;
  io.run_id = run_id;
  io.where = &*where;
  io.metrics = metrics.get();
  io.records = records->get();
  io.resume = a.resume;
  io.interrupt = &interrupted;
  io.on_progress = [&](std::int64_t done, std::int64_t total) {
    if (s->output.progress) bar.update("rounds", done, total, "");
  };
  io.on_eval = [&](const actors::evaluation& e) {
    if (!s->output.progress) return;
    bar.clear();
    std::fprintf(stderr, "epoch %6.2f  round %6llu  average model %.4f  agents %s  consensus %.3g  %.1f s\n", e.epoch,
                 static_cast<unsigned long long>(e.round), e.average_accuracy,
                 e.mean_agent_accuracy >= 0 ? fmt::format("{:.4f}", e.mean_agent_accuracy).c_str() : "-",
                 e.consensus_distance, e.wall_time_s);
  };
  std::signal(SIGINT, on_sigint);
  auto r = actors::run(*s, io);
  std::signal(SIGINT, SIG_DFL);
  bar.clear();
  if (!r) return fail(r.err().message);
  print_resumed(*r, 0);
  // An interrupted run (Ctrl-C, or a child that failed) may leave children
  // waiting for agents that will not come: they are told to stop.
  if (!children.finish(r->interrupted)) return fail("a process of this run failed (see its error above)");
  std::printf("\n%-8s %-8s %-10s %-10s %-12s %-12s %-10s\n", "epoch", "round", "average", "agents", "consensus",
              "MB sent", "dropped");
  for (const auto& e : r->evaluations)
    std::printf("%-8.2f %-8llu %-10.4f %-10s %-12.4g %-12.2f %-10llu\n", e.epoch,
                static_cast<unsigned long long>(e.round), e.average_accuracy,
                e.mean_agent_accuracy >= 0 ? fmt::format("{:.4f}", e.mean_agent_accuracy).c_str() : "-",
                e.consensus_distance, static_cast<double>(e.bytes_sent) / 1e6,
                static_cast<unsigned long long>(e.messages_dropped));
  const double final_acc = r->evaluations.empty() ? 0 : r->evaluations.back().average_accuracy;
  auto tail = s->run.gossip_tail > 0 ? fmt::format(", the last {} gossip only", s->run.gossip_tail) : "";
  if (s->topology.mixes_per_step > 1)
    tail += fmt::format("; {} gossip rounds per training step", s->topology.mixes_per_step);
  std::printf("\n%lld agents, %lld rounds (%lld per epoch%s) in %.1f s%s; final average-model accuracy %.4f\n",
              static_cast<long long>(r->agents), static_cast<long long>(r->rounds),
              static_cast<long long>(r->rounds_per_epoch), tail.c_str(), r->wall_time_s,
              r->interrupted ? " (interrupted)" : "", final_acc);
  if (const auto& c = r->consensus; s->topology.consensus.active())
    std::printf(
        "consensus control: %lld training steps, %lld extra gossip steps (%.2f per step), %lld ended by the "
        "cap of %lld; last distance %.4g (each verdict: a \"consensus\" record in process-0.jsonl)\n",
        static_cast<long long>(c.training_steps), static_cast<long long>(c.extra_gossip_steps),
        c.training_steps ? static_cast<double>(c.extra_gossip_steps) / static_cast<double>(c.training_steps) : 0.0,
        static_cast<long long>(c.capped_steps), static_cast<long long>(s->topology.consensus.max_steps),
        c.last_distance);
  std::printf("refused frames: %s\n", r->rejected_text.c_str());
  // Where the time went (and a table with --profile), before the refusals, which end the metrics.
  std::fprintf(metrics.get(), "%s\n", profile_record(r->profile, r->wall_time_s).dump().c_str());
  if (a.profile) std::printf("\n%s", profile_table(r->profile, r->agents, r->wall_time_s).c_str());
  {
    // What process 0 refused, by reason and peer, as the metrics' last record.
    nlohmann::json j{{"event", "rejections"},
                     {"process", 0},
                     {"total", nlohmann::json::object()},
                     {"from", nlohmann::json::object()}};
    for (const auto& [why, n] : r->rejected) j["total"][why] = n;
    for (const auto& [why, by] : r->rejected_from) j["from"][why] = by;
    std::fprintf(metrics.get(), "%s\n", j.dump().c_str());
    std::fflush(metrics.get());
  }
  std::printf("metrics: %s, configuration: %s\n", metrics_path.c_str(), (dir / "config.toml").c_str());
  return r->interrupted ? 130 : 0;
}

}  // namespace

runner add_run_command(CLI::App& cmd) {
  auto a = std::make_shared<run_args>();
  cmd.add_option("config", a->config, "the run's TOML file (configs/reference.toml lists every key)")
      ->check(CLI::ExistingFile);
  cmd.add_flag("--help-config", a->help_config, "print every configuration key with its default and meaning");
  cmd.add_option("--set", a->overrides, "override a key: --set protocol.gamma=0.5 (repeatable)");
  cmd.add_option("--processes", a->processes, "spread the agents over P local processes (tcp loopback)")
      ->check(CLI::Range(1, 256));
  cmd.add_option("--rank", a->rank, "this process's rank in a run started without a launcher (with --world)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--world", a->world, "the number of processes of that run")->check(CLI::PositiveNumber);
  cmd.add_option("--rendezvous", a->rendezvous,
                 "HOST:PORT where rank 0 collects the endpoints (launched without PMIx)");
  cmd.add_option("--hostfile", a->hostfile, "one host per line, rank k on line k (processes started by ssh)")
      ->check(CLI::ExistingFile);
  cmd.add_flag("--profile", a->profile,
               "print where the time went: compute, protocol, encode, checksum, transport, decode, evaluation, "
               "wait (the metrics' \"profile\" record has it always)");
  cmd.add_flag("--resume", a->resume,
               "continue from the agents' checkpoints ([checkpoint] every > 0): the same command, restarted");
  cmd.add_option("--child", a->child, "(internal) this process's number in a --processes run")->group("");
  cmd.add_option("--run-id", a->run_id, "(internal) names the run's endpoints")->group("");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
