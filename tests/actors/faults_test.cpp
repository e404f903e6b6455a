// The fault layer on its own: each fault kind of faults.cpp does what its
// setting says, at the rate it says, and the same seed replays the same
// decisions. Time is the caller's, so every expectation is exact or a
// binomial bound.

#include <catch2/catch.hpp>

#include <cmath>

#include "murmur/actors/faults.hpp"

using namespace murmur;
using actors::fault_injector;
using actors::fault_settings;

namespace {

constexpr int trials = 20000;
// |observed - p| stays below 5 standard deviations of a binomial proportion.
double binomial_bound(double p) { return 5 * std::sqrt(p * (1 - p) / trials); }

}  // namespace

TEST_CASE("no fault is active by default and every frame leaves at once", "[actors][faults]") {
  fault_injector f(fault_settings{}, 0);
  CHECK_FALSE(f.active());
  CHECK(f.slowdown() == 1.0);
  for (int i = 0; i < 100; ++i) {
    const auto d = f.decide(1, 1000, i * 0.01);
    REQUIRE(d.delays_s.size() == 1);
    CHECK(d.delays_s[0] == 0.0);
  }
}

TEST_CASE("drop loses frames at its probability", "[actors][faults]") {
  for (double p : {0.01, 0.1, 0.3}) {
    fault_injector f({.drop = p}, 3);
    CHECK(f.active());
    int lost = 0;
    for (int i = 0; i < trials; ++i) lost += f.decide(1, 100, 0).delays_s.empty();
    CHECK(std::abs(lost / double(trials) - p) < binomial_bound(p));
  }
}

TEST_CASE("duplicate sends a second copy at its probability", "[actors][faults]") {
  fault_injector f({.duplicate = 0.2}, 1);
  int twice = 0;
  for (int i = 0; i < trials; ++i) {
    const auto n = f.decide(0, 100, 0).delays_s.size();
    REQUIRE((n == 1 || n == 2));
    twice += n == 2;
  }
  CHECK(std::abs(twice / double(trials) - 0.2) < binomial_bound(0.2));
}

TEST_CASE("delay and jitter hold every frame for delay plus at most the jitter", "[actors][faults]") {
  fault_injector f({.delay_ms = 5, .jitter_ms = 2}, 0);
  double lo = 1, hi = 0;
  for (int i = 0; i < trials; ++i) {
    const double d = f.decide(1, 100, 7.0).delays_s.at(0);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  CHECK(lo >= 5e-3);
  CHECK(hi < 7e-3);
  CHECK(hi - lo > 1.9e-3);  // the jitter is used, not ignored
}

TEST_CASE("reorder holds frames back so that later ones overtake them", "[actors][faults]") {
  fault_injector f({.jitter_ms = 1, .reorder = 0.1}, 2);
  int held = 0, overtaken = 0;
  double previous_arrival = 0;
  for (int i = 0; i < trials; ++i) {
    const double now = i * 1e-4;  // one frame every 0.1 ms
    const double d = f.decide(1, 100, now).delays_s.at(0);
    REQUIRE(d >= 0);
    REQUIRE(d < 1e-3 + 4e-3);  // jitter + at most 4 x max(jitter, 1 ms)
    held += d >= 1e-3;
    overtaken += now + d < previous_arrival;
    previous_arrival = std::max(previous_arrival, now + d);
  }
  // A held frame waits an extra uniform [0, 4 ms): most of them exceed the jitter.
  CHECK(held > trials * 0.1 * 0.6);
  CHECK(held < trials * 0.1 * 1.2);
  CHECK(overtaken > 0);
}

TEST_CASE("a bandwidth cap queues a link's frames one after another", "[actors][faults]") {
  fault_injector f({.bandwidth_mbps = 8}, 0);  // 1 byte per microsecond
  // Three 1,000-byte frames at once: they leave 1, 2 and 3 ms later.
  CHECK(f.decide(1, 1000, 10.0).delays_s.at(0) == Approx(1e-3));
  CHECK(f.decide(1, 1000, 10.0).delays_s.at(0) == Approx(2e-3));
  CHECK(f.decide(1, 1000, 10.0).delays_s.at(0) == Approx(3e-3));
  // Another link is idle.
  CHECK(f.decide(2, 1000, 10.0).delays_s.at(0) == Approx(1e-3));
  // Once the link has drained, a frame waits only for its own bytes.
  CHECK(f.decide(1, 1000, 11.0).delays_s.at(0) == Approx(1e-3));
}

TEST_CASE("only the listed stragglers compute slower", "[actors][faults]") {
  const fault_settings s{.stragglers = {2, 5}, .slowdown = 3};
  CHECK(fault_injector(s, 2).slowdown() == 3.0);
  CHECK(fault_injector(s, 5).slowdown() == 3.0);
  CHECK(fault_injector(s, 0).slowdown() == 1.0);
  CHECK(fault_injector({.stragglers = {1}, .slowdown = 0.5}, 1).slowdown() == 1.0);  // never faster
}

TEST_CASE("the same seed and agent replay the same fault decisions", "[actors][faults]") {
  const fault_settings s{.drop = 0.2, .jitter_ms = 3, .duplicate = 0.1, .reorder = 0.1, .seed = 11};
  fault_injector a(s, 4), b(s, 4), other(s, 5);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto da = a.decide(1, 500, i * 1e-3), db = b.decide(1, 500, i * 1e-3);
    CHECK(da.delays_s == db.delays_s);
    differ += da.delays_s != other.decide(1, 500, i * 1e-3).delays_s;
  }
  CHECK(differ > 500);  // another agent draws its own faults
}
