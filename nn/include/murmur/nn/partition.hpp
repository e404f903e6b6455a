#pragma once

// Partitions of a training set over agents (ALGORITHMS.md §10): IID,
// Dirichlet(alpha) over labels as the QGM code does it, label-sorted shards
// (NGC code) and the continuous skew mix (low-precision code). All seeded
// with murmur's own generator: the same seed gives the same partition on
// every rank, but not numpy's bit-for-bit index sets.
//
// Every sample goes to at most one agent; those left out are counted.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/enum_names.hpp"
#include "murmur/common/result.hpp"

namespace murmur::nn {

enum class partition_scheme { iid, dirichlet, shards, skew };
inline constexpr common::enum_name<partition_scheme> partition_scheme_names[] = {
    {partition_scheme::iid, "iid"},
    {partition_scheme::dirichlet, "dirichlet"},
    {partition_scheme::shards, "shards"},
    {partition_scheme::skew, "skew"}};
constexpr std::span<const common::enum_name<partition_scheme>> names_of(partition_scheme) {
  return partition_scheme_names;
}

struct partition_options {
  partition_scheme scheme = partition_scheme::iid;
  std::int64_t agents = 1;
  double alpha = 1.0;  // dirichlet concentration
  double skew = 0.0;   // skew mix: fraction of each class dealt label-sorted
  std::uint64_t seed = 1;
  std::int64_t max_redraws = 10000;  // dirichlet: attempts before giving up
  bool operator==(const partition_options&) const = default;
};

struct partition {
  std::vector<std::vector<std::int64_t>> shards;  // sample indices per agent
  std::int64_t unused = 0;                        // samples given to nobody

  // [agent][class] sample counts.
  std::vector<std::vector<std::int64_t>> histogram(std::span<const std::int32_t> labels, std::int64_t classes) const;
  // The histogram as a table, one agent a line.
  std::string histogram_table(std::span<const std::int32_t> labels, std::int64_t classes) const;
};

common::result<partition_scheme> parse_partition_scheme(const std::string& name);
const char* to_string(partition_scheme s);

common::result<partition> make_partition(std::span<const std::int32_t> labels, std::int64_t classes,
                                         const partition_options& opt);

}  // namespace murmur::nn
