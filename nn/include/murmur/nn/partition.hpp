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

// A partition from a file, to import the exact split of another experiment:
//  - JSON (.json): a list per agent of sample indices, [[3, 17, ...], ...];
//  - NumPy (.npy, little-endian integers, C order): a 2-D array
//    [agents, k] (row a: agent a's indices), or a 1-D array of one agent id
//    per sample (-1: no agent), as a label-assignment vector.
// Every index must lie in [0, samples) and belong to one agent at most; the
// file must have `agents` lists. Errors name the file and the entry.
common::result<partition> read_partition_file(const std::string& path, std::int64_t samples, std::int64_t agents);
// Writes `p` as JSON (.json) or as a .npy the reader takes back (2-D when
// every shard has the same size, else the 1-D assignment, which keeps the
// sets but not the order within a shard).
common::status write_partition_file(const std::string& path, const partition& p, std::int64_t samples);

}  // namespace murmur::nn
