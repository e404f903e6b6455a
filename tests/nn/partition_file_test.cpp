// Partitions from files (issue 12): JSON lists and NumPy .npy (2-D rows or a
// 1-D assignment) read back exactly what was written, and every kind of bad
// file is refused with the file and the entry named.

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "murmur/nn/partition.hpp"

using namespace murmur;
using Catch::Contains;

namespace {

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("murmur-partition-" + name)).string();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A .npy of version 1.0 with this header dict and body.
std::string npy(const std::string& dict, const std::string& body) {
  std::string h = dict;
  h.append(63 - (10 + h.size()) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + body;
}

template <class T>
std::string bytes_of(std::initializer_list<T> v) {
  std::string out;
  for (T x : v) out.append(reinterpret_cast<const char*>(&x), sizeof x);
  return out;
}

}  // namespace

TEST_CASE("a partition written as JSON or .npy reads back the same", "[nn][partition]") {
  std::vector<std::int32_t> labels(200);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % 10);
  for (const auto scheme : {nn::partition_scheme::iid, nn::partition_scheme::dirichlet}) {
    auto p = nn::make_partition(labels, 10, {.scheme = scheme, .agents = 4, .alpha = 0.5, .seed = 3});
    REQUIRE(p.ok());
    for (const std::string ext : {".json", ".npy"}) {
      const auto path = temp("roundtrip" + ext);
      REQUIRE(nn::write_partition_file(path, *p, 200).ok());
      auto back = nn::read_partition_file(path, 200, 4);
      REQUIRE(back.ok());
      CHECK(back->unused == p->unused);
      for (std::size_t a = 0; a < 4; ++a) {
        auto want = p->shards[a], got = back->shards[a];
        // The 1-D .npy keeps the sets (in index order), JSON and 2-D also the order.
        if (ext == ".npy" && scheme == nn::partition_scheme::dirichlet) {
          std::ranges::sort(want);
          std::ranges::sort(got);
        }
        CHECK(got == want);
      }
      std::filesystem::remove(path);
    }
  }
}

TEST_CASE("a .npy of numpy's own making is read: 2-D rows, 1-D assignment, narrow and unsigned types",
          "[nn][partition]") {
  const auto path = temp("numpy.npy");
  // np.array([[0, 2], [1, 3]], dtype=np.int32)
  write_text(path,
             npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", bytes_of<std::int32_t>({0, 2, 1, 3})));
  auto p = nn::read_partition_file(path, 5, 2);
  REQUIRE(p.ok());
  CHECK(p->shards == std::vector<std::vector<std::int64_t>>{{0, 2}, {1, 3}});
  CHECK(p->unused == 1);
  // np.array([1, -1, 0, 1, 0], dtype=np.int8): agent per sample
  write_text(path,
             npy("{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }", bytes_of<std::int8_t>({1, -1, 0, 1, 0})));
  p = nn::read_partition_file(path, 5, 2);
  REQUIRE(p.ok());
  CHECK(p->shards == std::vector<std::vector<std::int64_t>>{{2, 4}, {0, 3}});
  write_text(path, npy("{'descr': '<u8', 'fortran_order': False, 'shape': (2, 1), }", bytes_of<std::uint64_t>({4, 0})));
  p = nn::read_partition_file(path, 5, 2);
  REQUIRE(p.ok());
  CHECK(p->shards == std::vector<std::vector<std::int64_t>>{{4}, {0}});
  std::filesystem::remove(path);
}

TEST_CASE("bad partition files are refused with the file and the entry named", "[nn][partition]") {
  const auto json = temp("bad.json"), np = temp("bad.npy");
  const auto refuses = [](const std::string& path, std::int64_t samples, std::int64_t agents, const std::string& why) {
    auto p = nn::read_partition_file(path, samples, agents);
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.err().message, Contains(path));
    CHECK_THAT(p.err().message, Contains(why));
  };
  write_text(json, "[[0, 1], [1, 2]]");
  refuses(json, 10, 2, "sample 1 is in agents 0 and 1");
  write_text(json, "[[0, 1], [12]]");
  refuses(json, 10, 2, "agent 1 has sample 12, outside 0 .. 9");
  write_text(json, "[[0, 1], [-1]]");
  refuses(json, 10, 2, "agent 1 has sample -1");
  write_text(json, "[[0, 1], [2]]");
  refuses(json, 10, 3, "2 agents' lists, the run has 3 agents");
  write_text(json, "[[0, 1], []]");
  refuses(json, 10, 2, "agent 1's list is empty");
  write_text(json, "[[0, 1.5]]");
  refuses(json, 10, 1, "agent 0, position 1: not an integer");
  write_text(json, "[[0, 1]");
  refuses(json, 10, 1, "not JSON");
  write_text(json, "{\"a\": 1}");
  refuses(json, 10, 1, "a list of lists");
  write_text(np, "garbage");
  refuses(np, 10, 1, "not a .npy");
  write_text(np, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", bytes_of<float>({1.f})));
  refuses(np, 10, 1, "dtype '<f4'");
  write_text(np, npy("{'descr': '<i4', 'fortran_order': True, 'shape': (1, 2), }", bytes_of<std::int32_t>({0, 1})));
  refuses(np, 10, 1, "Fortran order");
  write_text(np, npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", bytes_of<std::int32_t>({0, 1, 2})));
  refuses(np, 10, 2, "12 bytes of data, the shape needs 16");
  write_text(np,
             npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", bytes_of<std::int32_t>({0, 1, 2, 3})));
  refuses(np, 10, 2, "an assignment of 4 samples, the training set has 10");
  write_text(np, npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", bytes_of<std::int32_t>({0, 5, 1})));
  refuses(np, 3, 2, "sample 1 is assigned to agent 5");
  refuses(temp("missing.json"), 10, 1, "cannot open");
  const auto txt = temp("split.txt");
  write_text(txt, "[]");
  refuses(txt, 10, 1, "neither .json nor .npy");
  for (const auto& f : {json, np, txt}) std::filesystem::remove(f);
}
