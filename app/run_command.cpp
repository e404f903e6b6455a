// murmur run CONFIG.toml: a decentralized training run from one TOML file.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "config.hpp"
#include "murmur/actors/runtime.hpp"
#include "terminal.hpp"

namespace murmur::app {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_sigint(int) { interrupted = true; }

struct run_args {
  std::string config;
  std::vector<std::string> overrides;
  std::int64_t processes = 0;  // 0: as configured
  std::int64_t rank = 0;       // set by the parent for its children
  std::string run_id;
  bool help_config = false;
};

// Starts processes 1 .. P-1 of this run: the same binary, configuration and
// overrides, with --rank k. Returns their pids.
std::vector<pid_t> spawn_ranks(const run_args& a, std::int64_t processes, const std::string& run_id) {
  std::vector<pid_t> pids;
  for (std::int64_t k = 1; k < processes; ++k) {
    std::vector<std::string> args{"murmur", "run", a.config};
    for (const auto& o : a.overrides) args.insert(args.end(), {"--set", o});
    args.insert(args.end(), {"--set", "output.progress=false", "--rank", std::to_string(k), "--run-id", run_id});
    std::vector<char*> argv;
    for (auto& x : args) argv.push_back(x.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) == 0) pids.push_back(pid);
  }
  return pids;
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
  auto s = load_settings(a.config, a.overrides);
  if (!s) return fail(s.err().message);
  if (s->network.processes > 1 && s->network.transport == actors::transport_kind::inproc) {
    // Processes meet over tcp loopback.
    a.overrides.push_back("network.transport=\"tcp\"");
    s->network.transport = actors::transport_kind::tcp;
  }
  const std::string run_id = a.run_id.empty() ? std::to_string(::getpid()) : a.run_id;
  if (a.rank > 0) {
    // A child: its agents only; process 0 reports and writes the output.
    actors::run_io io;
    io.rank = a.rank;
    io.run_id = run_id;
    io.interrupt = &interrupted;
    std::signal(SIGINT, on_sigint);
    auto r = actors::run(*s, io);
    if (!r) return fail("process " + std::to_string(a.rank) + ": " + r.err().message);
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
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> metrics(std::fopen(metrics_path.c_str(), "w"), &std::fclose);
  if (!metrics) return fail("cannot write " + metrics_path);

  std::printf("murmur run: %lld agents, %s on %s, %s, %s (%s mode); output in %s\n",
              static_cast<long long>(s->topology.agents), s->protocol.algorithm.c_str(), s->topology.kind.c_str(),
              s->model.name.c_str(), s->data.dataset.c_str(), common::name_of(s->run.mode).data(),
              s->output.directory.c_str());
  std::fflush(stdout);
  progress_line bar;
  const auto pids = spawn_ranks(a, s->network.processes, run_id);
  children_watch children(pids);
  if (static_cast<std::int64_t>(pids.size()) + 1 < s->network.processes)
    return fail("could not start the other " + std::to_string(s->network.processes - 1) + " processes");
  actors::run_io io;
  io.run_id = run_id;
  io.metrics = metrics.get();
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
  if (!children.finish(false)) return fail("a process of this run failed (see its error above)");
  std::printf("\n%-8s %-8s %-10s %-10s %-12s %-12s %-10s\n", "epoch", "round", "average", "agents", "consensus",
              "MB sent", "dropped");
  for (const auto& e : r->evaluations)
    std::printf("%-8.2f %-8llu %-10.4f %-10s %-12.4g %-12.2f %-10llu\n", e.epoch,
                static_cast<unsigned long long>(e.round), e.average_accuracy,
                e.mean_agent_accuracy >= 0 ? fmt::format("{:.4f}", e.mean_agent_accuracy).c_str() : "-",
                e.consensus_distance, static_cast<double>(e.bytes_sent) / 1e6,
                static_cast<unsigned long long>(e.messages_dropped));
  const double final_acc = r->evaluations.empty() ? 0 : r->evaluations.back().average_accuracy;
  std::printf("\n%lld agents, %lld rounds (%lld per epoch) in %.1f s%s; final average-model accuracy %.4f\n",
              static_cast<long long>(r->agents), static_cast<long long>(r->rounds),
              static_cast<long long>(r->rounds_per_epoch), r->wall_time_s, r->interrupted ? " (interrupted)" : "",
              final_acc);
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
  cmd.add_option("--rank", a->rank, "(internal) this process's number in a --processes run")->group("");
  cmd.add_option("--run-id", a->run_id, "(internal) names the run's endpoints")->group("");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
