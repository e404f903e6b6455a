// Throughput of murmur's ZeroMQ transport for model-sized frames, as a ratio
// of raw ZeroMQ on the same socket type (PUSH -> PULL) and endpoint, in this
// process. Raw: zero-copy zmq_msg sends of prepared buffers, a receiving
// thread counting bytes. murmur: transport::send of prepared frames (moved
// in, handed to ZeroMQ without a copy), delivered to a callback on the
// transport's receive thread, each frame in one part (transport::send) and
// as header + payload parts (send_parts, as agents send). Medians of 5
// repetitions; nothing may drop. The tcp+curve row encrypts both sides
// with ZeroMQ CURVE (raw: a CURVE server and client with fresh keys; murmur:
// its own links, ZAP handler and sender check), so the ratio of the plain
// tcp row to it is what authenticated links cost.
//
// Usage: murmur_bench_transport [frame_bytes = 1048576] [frames = 2000]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "murmur/actors/transport.hpp"
#include "murmur/actors/world.hpp"
#include "murmur/protocols/codec.hpp"

using namespace murmur;
using clock_type = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double raw_zmq(const std::string& endpoint, std::size_t bytes, int frames, bool curve) {
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull), push(ctx, zmq::socket_type::push);
  pull.set(zmq::sockopt::rcvhwm, 0);
  push.set(zmq::sockopt::sndhwm, 0);
  if (curve) {
    const auto server = actors::new_keypair(), client = actors::new_keypair();
    pull.set(zmq::sockopt::curve_server, 1);
    pull.set(zmq::sockopt::curve_secretkey, server.secret_key);
    push.set(zmq::sockopt::curve_serverkey, server.public_key);
    push.set(zmq::sockopt::curve_publickey, client.public_key);
    push.set(zmq::sockopt::curve_secretkey, client.secret_key);
  }
  pull.bind(endpoint);
  push.connect(endpoint);
  // Distinct buffers, as murmur sends distinct frames (a reused buffer would stay in cache).
  std::vector<std::vector<std::byte>> buffers(static_cast<std::size_t>(frames),
                                              std::vector<std::byte>(bytes, std::byte{1}));
  std::atomic<std::size_t> got{0};
  std::thread receiver([&] {
    for (int i = 0; i < frames; ++i) {
      zmq::message_t m;
      (void)pull.recv(m);
      got += m.size();
    }
  });
  const auto start = clock_type::now();
  for (int i = 0; i < frames; ++i) {
    auto& buffer = buffers[static_cast<std::size_t>(i)];
    zmq::message_t m(
        buffer.data(), buffer.size(), [](void*, void*) {}, nullptr);
    (void)push.send(m, zmq::send_flags::none);
  }
  receiver.join();
  const double s = std::chrono::duration<double>(clock_type::now() - start).count();
  if (got != bytes * static_cast<std::size_t>(frames)) std::fprintf(stderr, "raw: bytes lost\n");
  return static_cast<double>(got) / s / 1e9;
}

double murmur_transport(actors::transport_kind kind, int port, std::size_t bytes, int frames, bool parts, bool curve) {
  actors::network_settings net{.transport = kind, .base_port = port, .queue = 1 << 20};
  std::atomic<std::size_t> got{0};
  std::atomic<int> count{0};
  actors::world here;
  here.endpoints = {actors::endpoint(net, "bench" + std::to_string(port), 0)};
  here.bind = here.endpoints[0];
  here.home = {0, 0};
  if (curve) {
    here.key = actors::new_keypair();
    here.publics = {here.key->public_key};
  }
  actors::rejection_table rejected(1);
  auto t = actors::make_zmq_transport({.where = here,
                                       .net = net,
                                       .agents = 2,
                                       .rejections = &rejected,
                                       .deliver = [&](std::int64_t, actors::wire_bytes w) {
                                         got += w.bytes.size() + w.payload.size();
                                         ++count;
                                       }});
  if (!t) {
    std::fprintf(stderr, "%s\n", t.err().message.c_str());
    std::exit(1);
  }
  // Frames prepared up front: the benchmark measures the transport, not the encoder.
  // Valid frames from agent 0 to agent 1 (the transport checks the header).
  std::vector<std::vector<std::byte>> prepared(static_cast<std::size_t>(frames));
  const std::vector<float> values((bytes - protocols::frame_header_size) / sizeof(float), 1.f);
  for (auto& f : prepared) f = protocols::encode_dense({.sender = 0, .receiver = 1}, values);
  std::vector<actors::frame_parts> split;
  if (parts)
    for (auto& f : prepared) split.push_back(actors::split_frame(std::move(f)));
  int dropped = 0;
  const auto start = clock_type::now();
  if (parts)
    for (auto& f : split) dropped += !(*t)->send_parts(0, 1, std::move(f));
  else
    for (auto& f : prepared) dropped += !(*t)->send(0, 1, std::move(f));
  while (count + dropped + static_cast<int>(rejected.total()) < frames) std::this_thread::yield();
  if (rejected.total()) std::fprintf(stderr, "murmur: rejected %s\n", rejected.describe().c_str());
  const double s = std::chrono::duration<double>(clock_type::now() - start).count();
  (*t)->close();
  if (dropped) std::fprintf(stderr, "murmur: %d frames dropped\n", dropped);
  return static_cast<double>(got) / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (1u << 20);
  const int frames = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::printf("frames of %zu bytes, %d per repetition, median of 5 (GB/s)\n", bytes, frames);
  std::printf("%-10s %10s %10s %8s %10s %8s\n", "socket", "raw ZeroMQ", "murmur", "ratio", "2-part", "ratio");
  int port = 31000;
  struct row {
    const char* name;
    actors::transport_kind kind;
    bool curve;
  };
  double plain_tcp = 0;
  for (const row r :
       {row{"inproc", actors::transport_kind::inproc, false}, row{"tcp", actors::transport_kind::tcp, false},
        row{"tcp+curve", actors::transport_kind::tcp, true}}) {
    std::vector<double> raw, ours, two;
    const int reps = r.curve ? 3 : 5;  // CURVE is 20x slower: fewer repetitions keep the run short
    const int n = r.curve ? std::max(50, frames / 10) : frames;
    for (int k = 0; k < reps; ++k) {
      ++port;
      const auto ep = r.kind == actors::transport_kind::inproc ? "inproc://raw" + std::to_string(port)
                                                               : "tcp://127.0.0.1:" + std::to_string(port + 1000);
      raw.push_back(raw_zmq(ep, bytes, n, r.curve));
      ours.push_back(murmur_transport(r.kind, port, bytes, n, false, r.curve));
      two.push_back(murmur_transport(r.kind, port + 2000, bytes, n, true, r.curve));
    }
    const double a = median(raw), b = median(ours), c = median(two);
    std::printf("%-10s %10.2f %10.2f %7.2fx %10.2f %7.2fx\n", r.name, a, b, b / a, c, c / a);
    if (r.kind == actors::transport_kind::tcp && !r.curve) plain_tcp = c;
    if (r.curve) std::printf("murmur 2-part: plain tcp is %.1fx tcp+curve\n", plain_tcp / c);
  }
}
