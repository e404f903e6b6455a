#include "murmur/nn/partition.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include <fmt/format.h>

#include "murmur/common/rng.hpp"

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;
using index_list = std::vector<std::int64_t>;

// Agent k gets list[k*size : (k+1)*size] with size = floor(N/n) (§10.1 step 5).
partition equal_slices(const index_list& list, std::int64_t agents) {
  partition p;
  const auto size = static_cast<std::int64_t>(list.size()) / agents;
  p.shards.resize(agents);
  for (std::int64_t k = 0; k < agents; ++k) p.shards[k].assign(list.begin() + k * size, list.begin() + (k + 1) * size);
  p.unused = static_cast<std::int64_t>(list.size()) - size * agents;
  return p;
}

index_list stable_label_order(std::span<const std::int32_t> labels) {
  index_list order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::ranges::stable_sort(order, [&](auto a, auto b) { return labels[a] < labels[b]; });
  return order;
}

partition iid(std::span<const std::int32_t> labels, const partition_options& opt) {
  index_list all(labels.size());
  std::iota(all.begin(), all.end(), 0);
  common::rng gen(opt.seed);
  gen.shuffle(std::span(all));
  return equal_slices(all, opt.agents);
}

// One group of at most 10 agents (§10.1 step 3). Returns false when the
// redraw budget is spent.
bool dirichlet_group(std::span<const std::int32_t> labels, std::int64_t classes, const index_list& group,
                     std::int64_t agents, double alpha, common::rng& gen, std::int64_t max_redraws,
                     std::vector<index_list>& out) {
  const double size = static_cast<double>(group.size());
  const auto min_size = static_cast<std::size_t>(std::floor(0.5 * size / static_cast<double>(agents)));
  std::vector<index_list> per_class(classes);
  for (auto i : group) per_class[labels[i]].push_back(i);
  std::vector<double> q(agents);
  for (std::int64_t attempt = 0; attempt < max_redraws; ++attempt) {
    std::vector<index_list> b(agents);
    bool redraw = false;
    for (std::int64_t c = 0; c < classes && !redraw; ++c) {
      const auto& ic = per_class[c];
      gen.dirichlet(alpha, q);
      // Agents that already hold their share get nothing more.
      double total = 0;
      for (std::int64_t j = 0; j < agents; ++j) {
        if (static_cast<double>(b[j].size()) >= size / static_cast<double>(agents)) q[j] = 0;
        total += q[j];
      }
      if (total <= 0) {
        redraw = true;  // numpy would produce NaN cut points here
        break;
      }
      double cum = 0;
      std::size_t start = 0;
      for (std::int64_t j = 0; j < agents; ++j) {
        cum += q[j] / total;
        const std::size_t end =
            j + 1 == agents
                ? ic.size()
                : std::min(ic.size(), static_cast<std::size_t>(std::floor(cum * static_cast<double>(ic.size()))));
        for (std::size_t t = start; t < std::max(start, end); ++t) b[j].push_back(ic[t]);
        start = std::max(start, end);
      }
    }
    if (redraw) continue;
    const auto smallest = std::ranges::min(b, {}, &index_list::size).size();
    if (smallest >= min_size) {
      for (auto& bj : b) out.push_back(std::move(bj));
      return true;
    }
  }
  return false;
}

common::result<partition> dirichlet(std::span<const std::int32_t> labels, std::int64_t classes,
                                    const partition_options& opt) {
  if (!(opt.alpha > 0)) return make_error(errc::invalid_argument, "dirichlet partition needs alpha > 0");
  const auto n = opt.agents;
  const auto total = static_cast<std::int64_t>(labels.size());
  common::rng gen(opt.seed);
  index_list shuffled(total);
  std::iota(shuffled.begin(), shuffled.end(), 0);
  gen.shuffle(std::span(shuffled));

  // Groups of 10 "auxiliary workers" (§10.1 step 2).
  const std::int64_t groups = (n + 9) / 10;
  const auto group_len = static_cast<std::int64_t>(std::floor(10.0 / static_cast<double>(n) * total));
  std::vector<index_list> buckets;
  for (std::int64_t s = 0; s < groups; ++s) {
    const auto begin = s * group_len;
    const auto end = s + 1 == groups ? total : std::min(total, (s + 1) * group_len);
    index_list group(shuffled.begin() + begin, shuffled.begin() + end);
    const auto agents = s + 1 == groups ? n - 10 * (groups - 1) : 10;
    if (!dirichlet_group(labels, classes, group, agents, opt.alpha, gen, opt.max_redraws, buckets))
      return make_error(errc::invalid_argument,
                        fmt::format("dirichlet partition: no draw gave every agent at least half its share in {} "
                                    "attempts (alpha {} is too small for {} agents?)",
                                    opt.max_redraws, opt.alpha, n));
  }
  index_list list;
  for (auto& b : buckets) list.insert(list.end(), b.begin(), b.end());
  return equal_slices(list, n);
}

partition shards(std::span<const std::int32_t> labels, const partition_options& opt) {
  const auto n = opt.agents;
  const auto order = stable_label_order(labels);
  const auto block = static_cast<std::int64_t>(order.size()) / n;
  std::deque<std::int64_t> blocks(n);
  std::iota(blocks.begin(), blocks.end(), 0);
  partition p;
  p.shards.resize(n);
  for (std::int64_t k = 0; k < n; ++k) {
    const auto b = blocks.front();
    blocks.pop_front();
    p.shards[k].assign(order.begin() + b * block, order.begin() + (b + 1) * block);
    // NGC code: with more than 10 agents, each of the first 10 sends the next block to the back.
    if (n > 10 && k < 10 && !blocks.empty()) {
      blocks.push_back(blocks.front());
      blocks.pop_front();
    }
  }
  p.unused = static_cast<std::int64_t>(order.size()) - block * n;
  return p;
}

common::result<partition> skew_mix(std::span<const std::int32_t> labels, std::int64_t classes,
                                   const partition_options& opt) {
  if (opt.skew < 0 || opt.skew > 1) return make_error(errc::invalid_argument, "skew must lie in [0, 1]");
  const auto n = opt.agents;
  const auto order = stable_label_order(labels);
  std::vector<std::int64_t> class_size(classes, 0);
  for (auto y : labels) ++class_size[y];
  index_list sorted_pool, random_pool;
  std::size_t at = 0;
  for (std::int64_t c = 0; c < classes; ++c) {
    const auto take = static_cast<std::int64_t>(std::floor(opt.skew * static_cast<double>(class_size[c])));
    for (std::int64_t t = 0; t < class_size[c]; ++t, ++at) (t < take ? sorted_pool : random_pool).push_back(order[at]);
  }
  common::rng gen(opt.seed);
  gen.shuffle(std::span(random_pool));
  const double total = static_cast<double>(labels.size());
  const auto from_sorted = static_cast<std::size_t>(std::floor(total * opt.skew / static_cast<double>(n)));
  const auto from_random = static_cast<std::size_t>(std::floor(total * (1 - opt.skew) / static_cast<double>(n)));
  partition p;
  p.shards.resize(n);
  std::size_t s = 0, r = 0;
  std::int64_t used = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    for (std::size_t t = 0; t < from_sorted && s < sorted_pool.size(); ++t) p.shards[k].push_back(sorted_pool[s++]);
    for (std::size_t t = 0; t < from_random && r < random_pool.size(); ++t) p.shards[k].push_back(random_pool[r++]);
    used += static_cast<std::int64_t>(p.shards[k].size());
  }
  p.unused = static_cast<std::int64_t>(labels.size()) - used;
  return p;
}

}  // namespace

const char* to_string(partition_scheme s) { return common::name_of(s).data(); }

common::result<partition_scheme> parse_partition_scheme(const std::string& name) {
  if (auto s = common::from_name<partition_scheme>(name)) return *s;
  return make_error(errc::invalid_argument, "unknown partition '" + name + "' (known: " +
                                                common::join(common::names_list<partition_scheme>()) + ")");
}

common::result<partition> make_partition(std::span<const std::int32_t> labels, std::int64_t classes,
                                         const partition_options& opt) {
  if (opt.agents < 1) return make_error(errc::invalid_argument, "a partition needs at least 1 agent");
  if (static_cast<std::int64_t>(labels.size()) < opt.agents)
    return make_error(errc::invalid_argument,
                      fmt::format("{} samples cannot be split over {} agents", labels.size(), opt.agents));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      return make_error(errc::invalid_argument, fmt::format("label {} of sample {} is out of range", labels[i], i));
  switch (opt.scheme) {
    case partition_scheme::iid:
      return iid(labels, opt);
    case partition_scheme::dirichlet:
      return dirichlet(labels, classes, opt);
    case partition_scheme::shards:
      return shards(labels, opt);
    case partition_scheme::skew:
      return skew_mix(labels, classes, opt);
  }
  return make_error(errc::invalid_argument, "unknown partition scheme");
}

std::vector<std::vector<std::int64_t>> partition::histogram(std::span<const std::int32_t> labels,
                                                            std::int64_t classes) const {
  std::vector<std::vector<std::int64_t>> h(shards.size(), std::vector<std::int64_t>(classes, 0));
  for (std::size_t k = 0; k < shards.size(); ++k)
    for (auto i : shards[k]) ++h[k][labels[i]];
  return h;
}

std::string partition::histogram_table(std::span<const std::int32_t> labels, std::int64_t classes) const {
  const auto h = histogram(labels, classes);
  std::string out = "agent";
  for (std::int64_t c = 0; c < classes; ++c) out += fmt::format(" {:>6}", fmt::format("c{}", c));
  out += "   total classes\n";
  for (std::size_t k = 0; k < h.size(); ++k) {
    out += fmt::format("{:>5}", k);
    std::int64_t total = 0, present = 0;
    for (auto v : h[k]) {
      out += fmt::format(" {:>6}", v);
      total += v;
      present += v > 0;
    }
    out += fmt::format(" {:>7} {:>7}\n", total, present);
  }
  out += fmt::format("unused samples: {}\n", unused);
  return out;
}

}  // namespace murmur::nn
