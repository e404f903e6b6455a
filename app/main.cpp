// murmur: decentralized deep learning on CPUs.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include "commands.hpp"

namespace murmur::app {

int fail(const std::string& message) {
  std::fprintf(stderr, "murmur: error: %s\n", message.c_str());
  return 1;
}

}  // namespace murmur::app

int main(int argc, char** argv) {
  using namespace murmur::app;
  CLI::App app{"murmur: decentralized deep learning on CPUs"};
  app.require_subcommand(1);
  auto* run = app.add_subcommand("run", "a decentralized training run described by one TOML file");
  auto* train = app.add_subcommand("train", "train one model on one data set");
  auto* bench = app.add_subcommand("bench", "measure speed");
  bench->require_subcommand(1);
  auto* bench_train = bench->add_subcommand("train", "training throughput on random data (forward, backward, step)");
  auto* bench_infer = bench->add_subcommand("infer", "inference throughput on random data (f32, bf16 or int8)");
  auto* partition = app.add_subcommand("partition", "split a training set over agents and print each agent's labels");
  const runner run_run = add_run_command(*run);
  const runner run_train = add_train_command(*train);
  const runner run_bench = add_bench_command(*bench_train, false);
  const runner run_infer = add_bench_command(*bench_infer, true);
  auto* topology = app.add_subcommand("topology", "a communication graph: degrees, weights, spectral gap, DOT");
  auto* list = app.add_subcommand("list", "what exists: algorithms, topologies, models, norms, compressors");
  const runner run_list = add_list_command(*list);
  auto* keygen = app.add_subcommand("keygen", "CURVE key pairs for a run's processes (launched without PMIx)");
  const runner run_keygen = add_keygen_command(*keygen);
  const runner run_partition = add_partition_command(*partition);
  const runner run_topology = add_topology_command(*topology);
  auto* report = app.add_subcommand("report", "a run's records merged: a table and plots (accuracy, consensus)");
  const runner run_report = add_report_command(*report);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    fail(what + " (see murmur --help)");
    return 2;
  }
  try {
    if (run->parsed()) return run_run();
    if (train->parsed()) return run_train();
    if (bench_train->parsed()) return run_bench();
    if (bench_infer->parsed()) return run_infer();
    if (partition->parsed()) return run_partition();
    if (topology->parsed()) return run_topology();
    if (list->parsed()) return run_list();
    if (keygen->parsed()) return run_keygen();
    if (report->parsed()) return run_report();
  } catch (const dnnl::error& e) {
    return fail(std::string("oneDNN: ") + e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return fail("no command given (see murmur --help)");
}
