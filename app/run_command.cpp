// murmur run CONFIG.toml: a decentralized training run from one TOML file.

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

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
};

int run(const run_args& a) {
  auto s = load_settings(a.config, a.overrides);
  if (!s) return fail(s.err().message);
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
              static_cast<long long>(s->topology.agents), actors::to_string(s->protocol.algorithm),
              s->topology.kind.c_str(), s->model.name.c_str(), s->data.dataset.c_str(),
              s->run.mode == actors::run_mode::async ? "async" : "sync", s->output.directory.c_str());
  std::fflush(stdout);
  progress_line bar;
  actors::run_io io;
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
      ->required()
      ->check(CLI::ExistingFile);
  cmd.add_option("--set", a->overrides, "override a key: --set protocol.gamma=0.5 (repeatable)");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
