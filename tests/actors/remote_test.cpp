// Reports and "finished" between processes: typed record frames that decode
// to exactly what was sent, and anything else is refused.

#include "caf_catch.hpp"

#include "actors/test_support.hpp"
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
  for (std::size_t k = 0; k < phase_count; ++k) m.phases.s[k] = 12.75 + static_cast<double>(k);  // every phase
  m.lost = {10, 11, 12, 13, 14, 15};  // by cause: drop, queue, partition, flap, away, behind
  r.params = std::make_shared<const std::vector<float>>(std::vector<float>{1.5f, -2.f, 1e-20f});
  const auto bytes = encode_report(r, 16);
  const auto got = decode_remote(bytes);
  REQUIRE(got.has_value());
  CHECK_FALSE(got->finished);
  CHECK(got->report.metrics == m);          // every field, counts exact in f64
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

TEST_CASE("over reaches a relay from the monitor and is nothing else", "[actors][remote]") {
  const auto got = decode_remote(encode_over(16, 17));
  REQUIRE(got.has_value());
  CHECK(got->over);
  CHECK_FALSE(got->finished);
  CHECK(protocols::decode(encode_over(16, 17))->header.receiver == 17);
}

namespace {

struct relay_fixture : test_coordinator_fixture<> {
  relay_fixture() {
    auto args = std::make_shared<relay_args>();
    args->net = &net;
    args->monitor_id = 4;
    args->local_agents = 2;
    args->on_all_finished = [this] { ++all_finished; };
    args->on_over = [this] { ++over; };
    relay = sys.spawn(relay_actor, args);
    sched.run();
  }
  void frame(std::vector<std::byte> bytes) {
    caf::anon_send(relay, remote_atom::value, owned_wire(std::move(bytes)));
    sched.run();
  }
  held_transport net;
  caf::actor relay;
  int all_finished = 0, over = 0;
};

}  // namespace

TEST_CASE_METHOD(relay_fixture, "a relay forwards its agents' reports and finished, and ends on over only",
                 "[actors][remote]") {
  agent_report r;
  r.metrics.agent = 1;
  r.metrics.round = 3;
  r.params = std::make_shared<const std::vector<float>>(std::vector<float>{2.f});
  caf::anon_send(relay, report_atom::value, r);
  caf::anon_send(relay, finished_atom::value, std::int64_t{1});
  sched.run();
  REQUIRE(net.frames.size() == 2);
  CHECK(net.frames[0].to == 4);
  CHECK(decode_remote(net.frames[0].bytes)->report.metrics.round == 3);
  CHECK(decode_remote(net.frames[1].bytes)->finished);
  CHECK(all_finished == 0);  // one of its two agents
  caf::anon_send(relay, finished_atom::value, std::int64_t{3});
  sched.run();
  CHECK(all_finished == 1);
  // A report or finished sent to the relay, or garbage, does not end the process.
  frame(encode_finished(0, 5));
  frame(encode_report(r, 5));
  frame(std::vector<std::byte>(70, std::byte{1}));
  CHECK(over == 0);
  frame(encode_over(4, 5));
  CHECK(over == 1);
}
