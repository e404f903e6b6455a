// Reports and "finished" between processes: typed record frames that decode
// to exactly what was sent, and anything else is refused.

#include <catch2/catch.hpp>

#include "murmur/protocols/codec.hpp"
#include "remote.hpp"

using namespace murmur;
using namespace murmur::actors;

TEST_CASE("a report crosses processes with every metric and the f32 model intact", "[actors][remote]") {
  agent_report r;
  auto& m = r.metrics;
  m.agent = 5;
  m.round = 1234;
  m.epoch = 2.5;
  m.train_loss = 0.3125;
  m.test_accuracy = 0.8125;
  m.test_loss = 0.5;
  m.counters = {.messages_sent = 7,
                .bytes_sent = 1ull << 40,
                .messages_received = 6,
                .bytes_received = 99,
                .messages_missing = 1,
                .messages_stale = 2,
                .messages_ignored = 3,
                .staleness_max = 4};
  m.messages_dropped = 8;
  m.messages_rejected = 9;
  m.compute_seconds = 12.75;
  r.params = std::make_shared<const std::vector<float>>(std::vector<float>{1.5f, -2.f, 1e-20f});
  const auto bytes = encode_report(r, 16);
  const auto got = decode_remote(bytes);
  REQUIRE(got.has_value());
  CHECK_FALSE(got->finished);
  const auto& g = got->report.metrics;
  CHECK(g.agent == 5);
  CHECK(g.round == 1234);
  CHECK(g.epoch == 2.5);
  CHECK(g.train_loss == 0.3125);
  CHECK(g.test_accuracy == 0.8125);
  CHECK(g.test_loss == 0.5);
  CHECK(g.counters.bytes_sent == (1ull << 40));
  CHECK(g.counters.messages_sent == 7);
  CHECK(g.counters.messages_received == 6);
  CHECK(g.counters.bytes_received == 99);
  CHECK(g.counters.messages_missing == 1);
  CHECK(g.counters.messages_stale == 2);
  CHECK(g.counters.messages_ignored == 3);
  CHECK(g.counters.staleness_max == 4);
  CHECK(g.messages_dropped == 8);
  CHECK(g.messages_rejected == 9);
  CHECK(g.compute_seconds == 12.75);
  CHECK(*got->report.params == *r.params);  // f32 on the wire: exact
  CHECK(protocols::decode(bytes)->header.receiver == 16);
}

TEST_CASE("finished crosses processes with its agent", "[actors][remote]") {
  const auto got = decode_remote(encode_finished(3, 16));
  REQUIRE(got.has_value());
  CHECK(got->finished);
  CHECK(got->report.metrics.agent == 3);
}

TEST_CASE("anything but a whole report or finished is refused", "[actors][remote]") {
  // A model frame, a control frame of another payload, a report missing a metric, garbage.
  const std::vector<float> v{1.f};
  CHECK_FALSE(decode_remote(protocols::encode_dense({.receiver = 16}, v)).has_value());
  CHECK_FALSE(decode_remote(protocols::encode_dense({.kind = protocols::message_kind::control}, v)).has_value());
  const auto partial =
      protocols::encode({.header = {.kind = protocols::message_kind::control},
                         .body = protocols::record_payload({{"report", 1}, {"agent", 1}, {"round", 2}}, v)});
  CHECK_FALSE(decode_remote(partial).has_value());
  const auto no_agent = protocols::encode(
      {.header = {.kind = protocols::message_kind::control}, .body = protocols::record_payload({{"finished", 1}}, {})});
  CHECK_FALSE(decode_remote(no_agent).has_value());
  std::vector<std::byte> junk(80, std::byte{0x5a});
  CHECK_FALSE(decode_remote(junk).has_value());
}
