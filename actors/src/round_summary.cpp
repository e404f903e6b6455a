#include "round_summary.hpp"

namespace murmur::actors {

round_summary summarize(std::span<const agent_report> reports) {
  round_summary s;
  const std::size_t dim = reports.front().params->size();
  const double n = static_cast<double>(reports.size());
  std::vector<double> sum(dim, 0.0);
  for (const auto& r : reports)
    for (std::size_t k = 0; k < dim; ++k) sum[k] += (*r.params)[k];
  s.average.resize(dim);
  for (std::size_t k = 0; k < dim; ++k) s.average[k] = static_cast<float>(sum[k] / n);

  double accuracy_sum = 0, loss_sum = 0;
  std::int64_t evaluated = 0;
  s.distance.reserve(reports.size());
  for (const auto& r : reports) {
    double d2 = 0;
    for (std::size_t k = 0; k < dim; ++k) {
      const double d = (*r.params)[k] - static_cast<double>(s.average[k]);
      d2 += d * d;
    }
    s.distance.push_back(d2);
    s.consensus_distance += d2 / n;
    const auto& m = r.metrics;
    s.epoch = m.epoch;
    loss_sum += m.train_loss;
    if (m.test_accuracy >= 0) {
      accuracy_sum += m.test_accuracy;
      ++evaluated;
    }
    s.bytes_sent += m.counters.bytes_sent;
    s.messages_dropped += m.messages_dropped;
    s.messages_rejected += m.messages_rejected;
  }
  s.train_loss = loss_sum / n;
  if (evaluated) s.mean_agent_accuracy = accuracy_sum / static_cast<double>(evaluated);
  return s;
}

}  // namespace murmur::actors
