#pragma once

// The arithmetic of one evaluation round, apart from the test-set pass: the
// averaged model x̄ (summed in f64, rounded once to f32), each agent's
// squared distance to it, their mean (the consensus distance), the mean
// training loss, the mean of the agents' own test accuracies and the summed
// counters. The monitor asks for it and writes what it returns.

#include <cstdint>
#include <span>
#include <vector>

#include "messages.hpp"

namespace murmur::actors {

struct round_summary {
  std::vector<float> average;    // x̄
  std::vector<double> distance;  // |x_i - x̄|² (against the f32 x̄), in report order
  double consensus_distance = 0;
  double train_loss = 0;
  double mean_agent_accuracy = -1;  // -1: no agent evaluated itself this round
  double epoch = 0;                 // the last report's
  std::uint64_t bytes_sent = 0, messages_dropped = 0, messages_rejected = 0;
};

// REQUIRES: at least one report, every model of the same size.
round_summary summarize(std::span<const agent_report> reports);

}  // namespace murmur::actors
