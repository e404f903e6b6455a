#include <catch2/catch.hpp>

#include <cmath>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/compressor.hpp"

using namespace murmur;
using namespace murmur::protocols;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  common::rng gen(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(gen.normal());
  return v;
}

}  // namespace

TEST_CASE("top-k keeps the largest entries of every tensor, at least one each", "[protocols][compressor]") {
  const std::vector<std::size_t> sizes{3, 1000, 50};
  auto x = random_vector(1053, 1);
  x[2] = 100.f;  // the largest of the first tensor
  const auto c = top_k(x, sizes, 0.01);
  // k per tensor: max(1, floor(size / 100)) = 1, 10, 1.
  REQUIRE(c.indices.size() == 12);
  CHECK(c.indices[0] == 2);
  CHECK(std::is_sorted(c.indices.begin(), c.indices.end()));
  // Every kept entry of the big tensor is at least as large as every dropped one.
  float smallest_kept = INFINITY, largest_dropped = 0;
  std::vector<bool> kept(x.size(), false);
  for (std::size_t k = 0; k < c.indices.size(); ++k) {
    kept[c.indices[k]] = true;
    CHECK(c.values[k] == x[c.indices[k]]);
  }
  for (std::size_t i = 3; i < 1003; ++i) {
    if (kept[i])
      smallest_kept = std::min(smallest_kept, std::abs(x[i]));
    else
      largest_dropped = std::max(largest_dropped, std::abs(x[i]));
  }
  CHECK(smallest_kept >= largest_dropped);
}

TEST_CASE("top-k at 1% sends exactly the bytes it reports", "[protocols][compressor]") {
  const std::vector<std::size_t> sizes{432, 16, 16, 2304, 16, 16, 9216, 640, 10};
  std::size_t total = 0;
  for (auto s : sizes) total += s;
  const auto x = random_vector(total, 2);
  const auto c = top_k(x, sizes, 0.01);
  const auto bytes = encode_sparse({}, static_cast<std::uint32_t>(total), c.indices, c.values);
  CHECK(bytes.size() == sparse_frame_bytes(static_cast<std::uint32_t>(c.indices.size())));
  // 4 + 1 + 1 + 23 + 1 + 1 + 92 + 6 + 1 kept entries.
  CHECK(c.indices.size() == 130);
  CHECK(bytes.size() == 56 + 4 + 8 * 130);
  // 1% of the dense f32 frame, give or take the per-tensor minimum and the header.
  CHECK(static_cast<double>(bytes.size()) <
        0.025 * static_cast<double>(dense_frame_bytes(payload_encoding::dense_f32, static_cast<std::uint32_t>(total))));
}

TEST_CASE("random-k is seeded and keeps k per tensor", "[protocols][compressor]") {
  const std::vector<std::size_t> sizes{100, 200};
  const auto x = random_vector(300, 3);
  common::rng a(5), b(5);
  const auto ca = random_k(x, sizes, 0.1, a), cb = random_k(x, sizes, 0.1, b);
  CHECK(ca.indices == cb.indices);
  CHECK(ca.indices.size() == 30);
  CHECK(std::count_if(ca.indices.begin(), ca.indices.end(), [](auto i) { return i < 100; }) == 10);
}

TEST_CASE("error feedback eventually sends everything it was given", "[protocols][compressor]") {
  // Feeding the same vector T times: what was sent adds up to T x minus the
  // memory, and the memory stays bounded, so the average sent tends to x.
  const std::vector<std::size_t> sizes{64};
  const auto x = random_vector(64, 4);
  error_feedback ef(64);
  const compressor top5({.kind = compressor_kind::top_k, .keep = 0.05}, sizes);
  common::rng gen(3);
  std::vector<double> sent(64, 0.0);
  const int rounds = 400;
  for (int t = 0; t < rounds; ++t) {
    const auto c = ef(x, top5, gen);
    for (std::size_t k = 0; k < c.indices.size(); ++k) sent[c.indices[k]] += c.values[k];
  }
  double worst = 0, memory = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    worst = std::max(worst, std::abs(sent[i] / rounds - x[i]));
    memory = std::max(memory, static_cast<double>(std::abs(ef.memory()[i])));
    // Exactly: sent = rounds * x - memory (up to f32 rounding).
    CHECK(sent[i] + ef.memory()[i] == Approx(rounds * static_cast<double>(x[i])).epsilon(1e-4).margin(1e-3));
  }
  CHECK(worst < 0.1);
  // Without feedback, top-k of a fixed vector never sends its small entries at all.
  const auto once = top_k(x, sizes, 0.05);
  CHECK(once.indices.size() == 3);
}

TEST_CASE("scaled sign keeps each tensor's L1 norm and signs; bf16 and f16 round to nearest",
          "[protocols][compressor]") {
  const std::vector<float> x{1.f, -3.f, 0.f, 2.f, -0.5f, 0.25f};
  common::rng gen(1);
  const auto p = compressor({.kind = compressor_kind::sign}, {4, 2})(x, gen);
  const auto d = p.dense();
  CHECK(d == std::vector<float>{1.5f, -1.5f, 1.5f, 1.5f, -0.375f, 0.375f});
  const auto h = compressor({.kind = compressor_kind::f16}, {6})(std::vector<float>{1.0f / 3, 70000.f, -1e-8f}, gen);
  CHECK(h.values[0] == Approx(1.0 / 3).epsilon(1.0 / 2048));
  CHECK(h.values[1] == 65504.f);  // saturates
  CHECK(h.values[2] == Approx(0).margin(1e-7));
  const auto b = compressor({.kind = compressor_kind::bf16}, {1})(std::vector<float>{1.0f / 3}, gen);
  CHECK(b.values[0] == Approx(1.0 / 3).epsilon(1.0 / 256));
}

TEST_CASE("QSGD is unbiased without the contractive scale and its levels fit its bits", "[protocols][compressor]") {
  const auto x = random_vector(50, 9);
  common::rng gen(2);
  const compressor q({.kind = compressor_kind::qsgd, .bits = 2, .contractive = false}, {50});
  std::vector<double> mean(50, 0.0);
  const int draws = 4000;
  for (int t = 0; t < draws; ++t) {
    const auto p = q(x, gen);
    for (auto c : p.codes) CHECK(std::abs(static_cast<int>(c)) <= 3);
    const auto d = p.dense();
    for (std::size_t i = 0; i < 50; ++i) mean[i] += d[i] / draws;
  }
  double norm = 0;
  for (float v : x) norm += static_cast<double>(v) * v;
  norm = std::sqrt(norm);
  // The variance per entry is at most (norm / s)^2 / 4: 4 sigma of the mean.
  for (std::size_t i = 0; i < 50; ++i) CHECK(mean[i] == Approx(x[i]).margin(4 * norm / 3 / 2 / std::sqrt(draws)));
}

TEST_CASE("each compressor reports exactly the bytes its frame takes", "[protocols][compressor]") {
  const std::vector<std::size_t> sizes{300, 64, 10, 1};
  const auto x = random_vector(375, 3);
  common::rng gen(4);
  for (auto kind : {compressor_kind::none, compressor_kind::bf16, compressor_kind::f16, compressor_kind::top_k,
                    compressor_kind::random_k, compressor_kind::sign, compressor_kind::qsgd}) {
    const auto p = compressor({.kind = kind, .keep = 0.01, .bits = 3}, sizes)(x, gen);
    INFO("kind " << static_cast<int>(kind));
    CHECK(encode({{}, p}).size() == frame_bytes(p));
  }
}
