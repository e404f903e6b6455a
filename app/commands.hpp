#pragma once

// The murmur command's sub-commands. Each registers its options on a CLI11
// sub-command and, when chosen, runs and returns the process exit code.

#include <functional>

#include <CLI/CLI.hpp>

namespace murmur::app {

using runner = std::function<int()>;

runner add_train_command(CLI::App& app);
// `inference`: murmur bench infer (forward only, eval mode) instead of train.
runner add_bench_command(CLI::App& app, bool inference);
runner add_partition_command(CLI::App& app);
runner add_topology_command(CLI::App& app);
runner add_run_command(CLI::App& app);
runner add_list_command(CLI::App& app);
runner add_keygen_command(CLI::App& app);
runner add_report_command(CLI::App& app);

// Prints "murmur: error: <message>" on one line to stderr; returns 1.
int fail(const std::string& message);

}  // namespace murmur::app
