#include "murmur/protocols/consensus.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace murmur::protocols {

double consensus_control::target_at(double epoch) const {
  std::size_t phase = 0;
  while (phase < milestones.size() && epoch + 1e-9 >= milestones[phase]) ++phase;
  return targets.at(std::min(phase, targets.size() - 1));
}

common::status consensus_control::validate() const {
  using common::errc;
  if (max_steps < 0) return common::make_error(errc::invalid_argument, "consensus_max_steps must be >= 0 (0: off)");
  if (!active()) return {};
  if (targets.empty())
    return common::make_error(errc::invalid_argument, "consensus_targets: give one target distance per phase");
  for (double t : targets)
    if (!(t >= 0) || !std::isfinite(t))
      return common::make_error(errc::invalid_argument,
                                "consensus_targets: a target is a distance, >= 0 (got " + std::to_string(t) + ")");
  if (targets.size() != milestones.size() + 1)
    return common::make_error(errc::invalid_argument,
                              "consensus_targets has " + std::to_string(targets.size()) + " phases but " +
                                  std::to_string(milestones.size()) +
                                  " milestones divide the run (one target per phase: milestones + 1)");
  if (!std::ranges::is_sorted(milestones))
    return common::make_error(errc::invalid_argument, "consensus_milestones must increase");
  return {};
}

double consensus_distance(std::span<const std::span<const float>> models) {
  if (models.empty()) return 0;
  const auto d = models.front().size();
  std::vector<double> mean(d, 0.0);
  for (const auto& x : models)
    for (std::size_t k = 0; k < d; ++k) mean[k] += x[k];
  const auto n = static_cast<double>(models.size());
  for (auto& m : mean) m /= n;
  double s = 0;
  for (const auto& x : models)
    for (std::size_t k = 0; k < d; ++k) {
      const double e = x[k] - mean[k];
      s += e * e;
    }
  return std::sqrt(s / n);
}

}  // namespace murmur::protocols
