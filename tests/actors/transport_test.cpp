// The ZeroMQ transport: a payload shared by the frames of several receivers
// travels without a copy (inproc hands over the very bytes), each receiver's
// header decodes, and what a foreign process sends is delivered only when it
// is one frame or two parts and names a receiver of this process. With
// CURVE, only the run's keys get in, and a process may speak only for the
// agents it hosts; everything refused is counted by reason.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <zmq.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "murmur/actors/transport.hpp"
#include "murmur/actors/world.hpp"
#include "murmur/protocols/codec.hpp"

using namespace murmur;
using namespace murmur::actors;

namespace {

// Collects what the receive thread delivers.
struct inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::int64_t, wire_bytes>> got;

  deliver_fn fn() {
    return [this](std::int64_t to, wire_bytes w) {
      {
        std::lock_guard lock(mu);
        got.emplace_back(to, std::move(w));
      }
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= n; });
  }
};

// One process hosting `agents` agents, with its own key pair when `curve`.
world one_process(const network_settings& net, const std::string& run, std::int64_t agents, bool curve) {
  settings s;
  s.network = net;
  s.topology.agents = agents;
  std::optional<key_set> keys;
  if (curve) keys = key_set{new_keypair(), {}};
  if (keys) keys->publics = {keys->own.public_key};
  return local_world(s, run, 0, keys);
}

transport_args args_for(world w, const network_settings& net, std::int64_t agents, rejection_table& r, inbox& box) {
  return {.where = std::move(w), .net = net, .agents = agents, .rejections = &r, .deliver = box.fn()};
}

// Below Linux's ephemeral range (32768-60999) and the ports of the other tests.
int random_port() { return 16000 + static_cast<int>(std::random_device{}() % 4000); }

}  // namespace

TEST_CASE("a payload sent to two receivers is encoded once and arrives without a copy", "[actors][transport]") {
  inbox box;
  network_settings net;  // inproc, one process
  rejection_table rejected(1);
  auto t = make_zmq_transport(args_for(one_process(net, "transport-test", 3, false), net, 3, rejected, box));
  REQUIRE(t.ok());
  std::vector<float> x(4096);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.5f;
  const auto body =
      std::make_shared<const protocols::encoded_payload>(protocols::encode_payload(protocols::dense_payload(x)));
  for (std::uint32_t to : {1u, 2u})
    REQUIRE(
        (*t)->send_parts(0, to, {protocols::encode_header({.sender = 0, .receiver = to}, *body), body, body->bytes}));
  REQUIRE(box.wait_for(2));
  for (const auto& [to, w] : box.got) {
    CHECK(w.payload.data() == body->bytes.data());  // the sender's bytes themselves
    const auto f = decode(w);
    REQUIRE(f.ok());
    CHECK(static_cast<std::int64_t>(f->header.receiver) == to);
    CHECK(f->body.values == x);
  }
  box.got.clear();  // the received parts held references to the payload
  (*t)->close();
  CHECK(body.use_count() == 1);  // and ZeroMQ let go of it
}

TEST_CASE("a foreign sender's frames are delivered whole or counted as misrouted", "[actors][transport]") {
  inbox box;
  network_settings net;
  net.transport = transport_kind::tcp;
  net.base_port = random_port();
  rejection_table rejected(1);
  auto t = make_zmq_transport(args_for(one_process(net, "foreign", 2, false), net, 2, rejected, box));
  REQUIRE(t.ok());
  zmq::context_t ctx;
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(endpoint(net, "foreign", 0));
  const auto whole = protocols::encode_dense({.receiver = 1}, std::vector<float>{1.f, 2.f});
  push.send(zmq::buffer(whole), zmq::send_flags::none);  // one part: a whole frame
  const auto away = protocols::encode_dense({.receiver = 9}, std::vector<float>{1.f});
  push.send(zmq::buffer(away), zmq::send_flags::none);  // no such receiver
  for (int part = 0; part < 3; ++part)                  // three parts: not a frame
    push.send(zmq::buffer(whole), part < 2 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  push.send(zmq::buffer(whole), zmq::send_flags::none);  // and then a good one again
  REQUIRE(box.wait_for(2));
  (*t)->close();
  REQUIRE(box.got.size() == 2);
  for (const auto& [to, w] : box.got) {
    CHECK(to == 1);
    const auto f = decode(w);
    REQUIRE(f.ok());
    CHECK(f->body.values == std::vector<float>{1.f, 2.f});
  }
  CHECK(rejected.total(rejection::misrouted) == 1);
  CHECK(rejected.total(rejection::codec) == 1);     // three parts
  CHECK(rejected.from(rejection::codec, -1) == 1);  // no CURVE: the peer is unknown
}

TEST_CASE("with CURVE only the run's keys get in, and a process speaks only for its own agents",
          "[actors][transport][curve]") {
  // Two processes' worth of keys; this transport is process 0 and hosts
  // agents 0 and 2, process 1 hosts 1 and 3.
  inbox box;
  network_settings net;
  net.transport = transport_kind::tcp;
  net.base_port = random_port();
  const auto k0 = new_keypair(), k1 = new_keypair(), stranger = new_keypair();
  world w;
  w.rank = 0;
  w.size = 2;
  w.endpoints = {endpoint(net, "curve", 0), endpoint(net, "curve", 1)};
  w.bind = w.endpoints[0];
  w.key = k0;
  w.publics = {k0.public_key, k1.public_key};
  w.home = {0, 1, 0, 1};
  rejection_table rejected(2);
  auto t = make_zmq_transport(args_for(w, net, 4, rejected, box));
  REQUIRE(t.ok());
  zmq::context_t ctx;
  const auto client = [&](const curve_keypair* key) {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 1000);
    if (key) {
      push.set(zmq::sockopt::curve_serverkey, k0.public_key);
      push.set(zmq::sockopt::curve_publickey, key->public_key);
      push.set(zmq::sockopt::curve_secretkey, key->secret_key);
    }
    push.connect(w.endpoints[0]);
    return push;
  };
  const auto frame = [](std::uint32_t sender, std::uint32_t receiver) {
    return protocols::encode_dense({.sender = sender, .receiver = receiver}, std::vector<float>{1.f});
  };
  auto plain = client(nullptr), foreign = client(&stranger), as1 = client(&k1);
  (void)plain.send(zmq::buffer(frame(1, 0)), zmq::send_flags::dontwait);    // no key: refused at the handshake
  (void)foreign.send(zmq::buffer(frame(1, 0)), zmq::send_flags::dontwait);  // a key not of this run: refused by ZAP
  as1.send(zmq::buffer(frame(2, 0)), zmq::send_flags::none);                // process 1 claiming agent 2 (process 0's)
  as1.send(zmq::buffer(frame(4 + 0, 0)), zmq::send_flags::none);            // process 1 claiming process 0's monitor
  as1.send(zmq::buffer(frame(3, 2)), zmq::send_flags::none);                // process 1 for agent 3: its own
  const bool arrived = box.wait_for(1);
  INFO("refused: " << rejected.describe());
  REQUIRE(arrived);
  for (int i = 0; i < 100 && rejected.total(rejection::auth) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*t)->close();
  REQUIRE(box.got.size() == 1);
  CHECK(box.got[0].first == 2);
  CHECK(box.got[0].second.peer == 1);  // the authenticated process
  CHECK(rejected.from(rejection::sender, 1) == 2);
  // ZeroMQ retries a refused handshake, so each refused socket counts at least once.
  const auto auth = rejected.auth_addresses();
  CHECK(auth.contains("127.0.0.1"));                           // the stranger's key, refused by ZAP
  CHECK(auth.contains("a peer without the run's CURVE key"));  // no CURVE at all
  CHECK(rejected.total() - rejected.total(rejection::auth) == 2);
  CHECK_THAT(rejected.describe(), Catch::Contains("sender 2 (process 1: 2)"));
}

TEST_CASE("key files round-trip, and a bad or exposed one is refused with its name", "[actors][curve]") {
  const auto dir = std::filesystem::temp_directory_path() / ("murmur-keys-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  REQUIRE(write_keys(dir.string(), 3).ok());
  const auto k1 = read_keys(dir.string(), 1, 3);
  REQUIRE(k1.ok());
  CHECK(k1->publics.size() == 3);
  CHECK(k1->publics[1] == k1->own.public_key);
  CHECK(is_curve_key(k1->own.secret_key));
  CHECK(k1->publics[0] != k1->publics[1]);
  CHECK((std::filesystem::status(dir / "process-1.key").permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  // Too few processes' keys for a larger run.
  const auto missing = read_keys(dir.string(), 0, 4);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.err().message, Catch::Contains("process-3.pub"));
  // An exposed secret.
  std::filesystem::permissions(dir / "process-2.key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  const auto exposed = read_keys(dir.string(), 2, 3);
  REQUIRE_FALSE(exposed.ok());
  CHECK_THAT(exposed.err().message, Catch::Contains("chmod 600"));
  // A damaged public key.
  { std::ofstream(dir / "process-0.pub") << "public = \"not a key\"\n"; }
  const auto damaged = read_keys(dir.string(), 1, 3);
  REQUIRE_FALSE(damaged.ok());
  CHECK_THAT(damaged.err().message, Catch::Contains("process-0.pub holds no valid public key"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("placement: block ranges and round-robin, each agent on exactly one process", "[actors][world]") {
  CHECK(place_agents(8, 3, placement_kind::block) == std::vector<std::int64_t>{0, 0, 1, 1, 1, 2, 2, 2});
  CHECK(place_agents(8, 3, placement_kind::round_robin) == std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 0, 1});
  CHECK(describe_placement(place_agents(8, 3, placement_kind::block), 3) ==
        "process 0: 0-1; process 1: 2-4; process 2: 5-7");
  CHECK(describe_placement(place_agents(5, 2, placement_kind::round_robin), 2) == "process 0: 0,2,4; process 1: 1,3");
  CHECK(describe_placement(place_agents(1, 2, placement_kind::block), 2) == "process 0: none; process 1: 0");
  for (std::int64_t n : {1, 7, 16, 1000})
    for (std::int64_t p : {1, 2, 3, 16}) {
      const auto home = place_agents(n, p, placement_kind::block);
      std::vector<std::int64_t> count(static_cast<std::size_t>(p));
      for (auto h : home) ++count[static_cast<std::size_t>(h)];
      CHECK(std::ranges::max(count) - std::ranges::min(count) <= 1);
      CHECK(std::ranges::is_sorted(home));
    }
}
