#include "murmur/actors/faults.hpp"

#include <algorithm>
#include <set>

namespace murmur::actors {

fault_injector::fault_injector(const fault_settings& f, std::int64_t agent)
    : f_(f), gen_(common::rng::derive(f.seed, static_cast<std::uint64_t>(agent))) {
  if (std::ranges::find(f.stragglers, agent) != f.stragglers.end()) slowdown_ = std::max(1.0, f.slowdown);
}

bool fault_injector::active() const {
  return f_.drop > 0 || f_.delay_ms > 0 || f_.jitter_ms > 0 || f_.duplicate > 0 || f_.reorder > 0 ||
         f_.bandwidth_mbps > 0;
}

fault_decision fault_injector::decide(std::int64_t to, std::size_t bytes, double now_s) {
  fault_decision d;
  if (gen_.uniform() < f_.drop) return d;
  const int copies = gen_.uniform() < f_.duplicate ? 2 : 1;
  double start = now_s;
  if (f_.bandwidth_mbps > 0) {
    // The link sends one frame after another at the capped rate.
    auto& free_at = link_free_at_[to];
    free_at = std::max(free_at, now_s) + static_cast<double>(bytes) * 8.0 / (f_.bandwidth_mbps * 1e6);
    start = free_at;
  }
  for (int c = 0; c < copies; ++c) {
    double delay = (start - now_s) + f_.delay_ms * 1e-3 + gen_.uniform() * f_.jitter_ms * 1e-3;
    if (gen_.uniform() < f_.reorder) delay += gen_.uniform() * std::max(f_.jitter_ms, 1.0) * 1e-3 * 4;
    d.delays_s.push_back(delay);
  }
  return d;
}

common::status check_faults(const fault_settings& f, std::int64_t agents) {
  using common::errc;
  const auto bad = [](std::string what) { return common::make_error(errc::invalid_argument, "[faults] " + what); };
  const auto known = [&](std::int64_t a) { return a >= 0 && a < agents; };
  const auto name = [&](std::int64_t a) {
    return "agent " + std::to_string(a) + " does not exist (agents = " + std::to_string(agents) + ")";
  };
  for (std::size_t k = 0; k < f.partitions.size(); ++k) {
    const auto& p = f.partitions[k];
    const auto at = "partition " + std::to_string(k + 1) + ": ";
    if (p.to <= p.from)
      return bad(at + "rounds [" + std::to_string(p.from) + ", " + std::to_string(p.to) + ") is empty");
    if (p.groups.empty()) return bad(at + "groups is empty");
    std::set<std::int64_t> seen;
    for (const auto& g : p.groups)
      for (auto a : g) {
        if (!known(a)) return bad(at + name(a));
        if (!seen.insert(a).second) return bad(at + "agent " + std::to_string(a) + " is in two groups");
      }
  }
  for (std::size_t k = 0; k < f.crashes.size(); ++k) {
    const auto& c = f.crashes[k];
    if (!known(c.agent)) return bad("crash " + std::to_string(k + 1) + ": " + name(c.agent));
    if (c.restart_after == 0) return bad("crash " + std::to_string(k + 1) + ": restart_after must be >= 1 or -1");
  }
  for (std::size_t k = 0; k < f.flaps.size(); ++k) {
    const auto& l = f.flaps[k];
    const auto at = "flap " + std::to_string(k + 1) + ": ";
    if (!known(l.a)) return bad(at + name(l.a));
    if (!known(l.b)) return bad(at + name(l.b));
    if (l.a == l.b) return bad(at + "a link needs two agents");
    if (l.down > l.period)
      return bad(at + "down (" + std::to_string(l.down) + ") is longer than period (" + std::to_string(l.period) + ")");
    if (l.to >= 0 && l.to <= l.from) return bad(at + "rounds [from, to) is empty");
  }
  return {};
}

fault_schedule::fault_schedule(const fault_settings& f, std::int64_t agents) : f_(f) {
  for (const auto& p : f_.partitions) {
    std::vector<std::int64_t> group(static_cast<std::size_t>(agents), -1);
    for (std::size_t g = 0; g < p.groups.size(); ++g)
      for (auto a : p.groups[g])
        if (a >= 0 && a < agents) group[static_cast<std::size_t>(a)] = static_cast<std::int64_t>(g);
    group_of_.push_back(std::move(group));
  }
  active_ = !f_.partitions.empty() || !f_.crashes.empty() || !f_.flaps.empty() || f_.churn > 0;
}

std::optional<away_reason> fault_schedule::away(std::int64_t agent, std::uint64_t round) const {
  const auto r = static_cast<std::int64_t>(round);
  for (const auto& c : f_.crashes)
    if (c.agent == agent && r >= c.round && (c.restart_after < 0 || r < c.round + c.restart_after))
      return away_reason::crash;
  if (f_.churn > 0) {
    // One draw per (agent, round) from the seed alone: any replay sees the same.
    auto g = common::rng::derive(
        common::rng::derive(f_.seed, 0x6368'7572'6e00ULL + static_cast<std::uint64_t>(agent)).next_u64(), round);
    if (g.uniform() < f_.churn) return away_reason::churn;
  }
  return std::nullopt;
}

std::optional<loss_cause> fault_schedule::cut(std::int64_t a, std::int64_t b, std::uint64_t round) const {
  const auto r = static_cast<std::int64_t>(round);
  for (std::size_t k = 0; k < f_.partitions.size(); ++k) {
    const auto& p = f_.partitions[k];
    if (r < p.from || r >= p.to) continue;
    const auto& g = group_of_[k];
    if (a < 0 || b < 0 || a >= static_cast<std::int64_t>(g.size()) || b >= static_cast<std::int64_t>(g.size()))
      continue;
    if (g[static_cast<std::size_t>(a)] != g[static_cast<std::size_t>(b)]) return loss_cause::partition;
  }
  for (const auto& l : f_.flaps) {
    if (!((l.a == a && l.b == b) || (l.a == b && l.b == a))) continue;
    if (r < l.from || (l.to >= 0 && r >= l.to)) continue;
    if ((r - l.from) % l.period < l.down) return loss_cause::flap;
  }
  return std::nullopt;
}

bool fault_schedule::partitioned(std::uint64_t round) const {
  const auto r = static_cast<std::int64_t>(round);
  return std::ranges::any_of(f_.partitions, [&](const partition_window& p) { return r >= p.from && r < p.to; });
}

}  // namespace murmur::actors
