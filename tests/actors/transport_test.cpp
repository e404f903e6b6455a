// The ZeroMQ transport: a payload shared by the frames of several receivers
// travels without a copy (inproc hands over the very bytes), each receiver's
// header decodes, and what a foreign process sends is delivered only when it
// is one frame or two parts and names a receiver of this process.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <zmq.hpp>

#include "murmur/actors/transport.hpp"
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

}  // namespace

TEST_CASE("a payload sent to two receivers is encoded once and arrives without a copy", "[actors][transport]") {
  inbox box;
  network_settings net;  // inproc, one process
  auto t = make_zmq_transport(net, "transport-test", 0, 3, box.fn());
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
  net.base_port = 33000 + static_cast<int>(std::random_device{}() % 2000);
  auto t = make_zmq_transport(net, "foreign", 0, 2, box.fn());
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
  CHECK((*t)->misrouted() == 2);
}
