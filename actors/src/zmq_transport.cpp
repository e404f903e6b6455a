#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "murmur/actors/transport.hpp"
#include "zap.hpp"

namespace murmur::actors {
namespace {

// The parts of one received message, owned together.
struct received {
  zmq::message_t head, body;
};

class zmq_transport final : public transport {
 public:
  explicit zmq_transport(transport_args a)
      : a_(std::move(a)), links_(static_cast<std::size_t>(a_.agents + a_.where.size)) {
    keys_ = zap_keys(a_.where.publics);
  }

  ~zmq_transport() override { close(); }

  common::status start() {
    const auto& w = a_.where;
    try {
      // ZeroMQ allows 1023 sockets unless told: a link (sender, receiver) is a
      // socket, so a dense graph (the complete one of all-reduce and of exact
      // averaging rounds) needs one per pair, a sparse one a few per agent.
      const std::int64_t n = a_.agents;
      const std::int64_t links = std::max<std::int64_t>(4 * (n + 1), n <= 1024 ? n * (n + 1) : 0);
      ctx_.set(zmq::ctxopt::max_sockets, static_cast<int>(std::min<std::int64_t>(links + 64, 1 << 20)));
      if (w.key) {
        // The ZAP handler must be bound before any CURVE handshake can start.
        zap_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
        zap_.set(zmq::sockopt::linger, 0);
        zap_.bind("inproc://zeromq.zap.01");
      }
      pull_ = zmq::socket_t(ctx_, zmq::socket_type::pull);
      pull_.set(zmq::sockopt::rcvhwm, a_.net.queue);
      pull_.set(zmq::sockopt::linger, 0);
      if (a_.max_frame > 0) pull_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(4 * a_.max_frame + 4096));
      if (w.key) {
        pull_.set(zmq::sockopt::curve_server, 1);
        pull_.set(zmq::sockopt::curve_secretkey, w.key->secret_key);
        pull_.set(zmq::sockopt::zap_domain, "murmur");
      }
      if (w.key) {
        // Handshakes that never reach ZAP (no CURVE, or not ZeroMQ at all) are
        // seen only by the socket's monitor.
        const auto monitor = "inproc://murmur-handshakes-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
        if (zmq_socket_monitor(pull_.handle(), monitor.c_str(),
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
          throw zmq::error_t();
        handshakes_ = zmq::socket_t(ctx_, zmq::socket_type::pair);
        handshakes_.set(zmq::sockopt::linger, 0);
        handshakes_.connect(monitor);
      }
      pull_.bind(w.bind);
    } catch (const zmq::error_t& e) {
      return common::make_error(common::errc::io, "cannot bind " + w.bind + ": " + e.what());
    }
    receiver_ = std::thread([this] { receive_loop(); });
    return {};
  }

  bool send_parts(std::int64_t from, std::int64_t to, frame_parts frame) override {
    auto* link = link_of(from, to);
    if (!link) return false;
    // The header is copied (56 bytes); the payload is not: ZeroMQ drops its
    // reference to the owner when it has sent it. A multipart message is
    // queued whole or not at all.
    zmq::message_t head(frame.header.data(), frame.header.size());
    zmq::message_t body;
    if (!frame.payload.empty()) {
      auto* owner = new std::shared_ptr<const void>(std::move(frame.owner));
      body = zmq::message_t(
          const_cast<std::byte*>(frame.payload.data()), frame.payload.size(),
          [](void*, void* hint) { delete static_cast<std::shared_ptr<const void>*>(hint); }, owner);
    }
    if (!link->send(head, zmq::send_flags::dontwait | zmq::send_flags::sndmore)) return false;
    return link->send(body, zmq::send_flags::dontwait).has_value();
  }

  bool send(std::int64_t from, std::int64_t to, std::vector<std::byte> whole) override {
    auto* link = link_of(from, to);
    if (!link) return false;
    // One part, zero copy: ZeroMQ frees the vector when it has sent it.
    auto* owned = new std::vector<std::byte>(std::move(whole));
    zmq::message_t msg(
        owned->data(), owned->size(), [](void*, void* hint) { delete static_cast<std::vector<std::byte>*>(hint); },
        owned);
    return link->send(msg, zmq::send_flags::dontwait).has_value();  // if not sent, msg frees the vector
  }

  void close() override {
    if (closed_.exchange(true)) return;
    stop_ = true;
    if (receiver_.joinable()) receiver_.join();
    for (auto& links : links_) links.clear();
    if (handshakes_) zmq_socket_monitor(pull_.handle(), nullptr, 0);
    handshakes_.close();
    pull_.close();
    zap_.close();
    ctx_.close();
  }

 private:
  // The PUSH socket of link from -> to, opened on first use; null when no
  // socket can be opened (said once).
  zmq::socket_t* link_of(std::int64_t from, std::int64_t to) {
    auto& links = links_[static_cast<std::size_t>(from)];
    auto it = links.find(to);
    if (it == links.end()) {
      const auto& w = a_.where;
      const auto home = static_cast<std::size_t>(home_of(to));
      try {
        zmq::socket_t s(ctx_, zmq::socket_type::push);
        s.set(zmq::sockopt::sndhwm, a_.net.queue);
        s.set(zmq::sockopt::linger, 2000);  // close() still delivers what is queued
        if (w.key) {
          s.set(zmq::sockopt::curve_serverkey, w.publics[home]);
          s.set(zmq::sockopt::curve_publickey, w.key->public_key);
          s.set(zmq::sockopt::curve_secretkey, w.key->secret_key);
        }
        s.connect(w.endpoints[home]);
        it = links.emplace(to, std::move(s)).first;
      } catch (const zmq::error_t& e) {
        // Out of sockets or file descriptors: the frame is lost (and counted);
        // say why once.
        if (!warned_.exchange(true))
          std::fprintf(stderr, "murmur: warning: cannot open a link socket (%s); frames on such links are dropped\n",
                       e.what());
        return nullptr;
      }
    }
    return &it->second;
  }

  void answer_zap() { zap_answer(zap_, keys_, *a_.rejections); }

  // A failed handshake the monitor saw: an event part, then the endpoint.
  void count_handshake() {
    for (bool more = true; more;) {
      zmq::message_t part;
      if (!handshakes_.recv(part, zmq::recv_flags::dontwait)) return;
      more = part.more();
      if (part.size() == 6) a_.rejections->count_auth("a peer without the run's CURVE key");
    }
  }

  // The process a received message came from (its ZAP user id); -1 without CURVE.
  std::int64_t peer_of(zmq::message_t& m) const {
    if (!a_.where.key) return -1;
    const char* user = zmq_msg_gets(m.handle(), "User-Id");
    if (!user) return -2;  // cannot happen with CURVE and a ZAP handler
    return std::strtoll(user, nullptr, 10);
  }

  void receive_loop() {
    zmq::pollitem_t items[] = {{pull_.handle(), 0, ZMQ_POLLIN, 0},
                               {zap_.handle(), 0, ZMQ_POLLIN, 0},
                               {handshakes_.handle(), 0, ZMQ_POLLIN, 0}};
    const int nitems = a_.where.key ? 3 : 1;
    auto* rejections = a_.rejections;
    while (!stop_) {
      zmq::poll(items, nitems, std::chrono::milliseconds(50));
      if (nitems == 3 && (items[1].revents & ZMQ_POLLIN)) answer_zap();
      if (nitems == 3 && (items[2].revents & ZMQ_POLLIN)) count_handshake();
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      for (int budget = 0; budget < 1024; ++budget) {  // then let the ZAP handler in
        // One part (a whole frame, as a foreign sender might send) or two
        // (header, payload); more is not a frame.
        auto parts = std::make_shared<received>();
        if (!pull_.recv(parts->head, zmq::recv_flags::dontwait)) break;
        bool two = false, extra = false;
        if (parts->head.more()) {
          (void)pull_.recv(parts->body);  // the rest of a multipart message is already here
          two = true;
          for (bool more = parts->body.more(); more;) {
            zmq::message_t rest;
            (void)pull_.recv(rest);
            extra = true;
            more = rest.more();
          }
        }
        const auto peer = peer_of(parts->head);
        const auto span_of = [](const zmq::message_t& m) {
          return std::span<const std::byte>(static_cast<const std::byte*>(m.data()), m.size());
        };
        wire_bytes w{parts, span_of(parts->head), two ? span_of(parts->body) : std::span<const std::byte>(), peer};
        const auto size = w.bytes.size() + w.payload.size();
        // Routing reads only the header's receiver and sender (codec.hpp's
        // wire_header); everything else is the agent's decoder's business.
        const auto head = protocols::peek_header(w.bytes);
        if (extra || !head || (a_.max_frame > 0 && size > a_.max_frame)) {
          rejections->count(rejection::codec, peer);
          continue;
        }
        if (head->receiver >= static_cast<std::uint64_t>(a_.agents + a_.where.size) ||
            home_of(head->receiver) != a_.where.rank) {
          rejections->count(rejection::misrouted, peer);
          continue;
        }
        // A process may speak only for the agents (and the control actor) it hosts.
        if (peer != -1 &&
            (head->sender >= static_cast<std::uint64_t>(a_.agents + a_.where.size) || home_of(head->sender) != peer)) {
          rejections->count(rejection::sender, peer);
          continue;
        }
        a_.deliver(head->receiver, std::move(w));
      }
    }
  }

  // Agents live where the placement puts them; control id agents + r in process r.
  std::int64_t home_of(std::int64_t id) const {
    return id >= a_.agents ? id - a_.agents : a_.where.home[static_cast<std::size_t>(id)];
  }

  transport_args a_;
  zap_key_map keys_;
  zmq::context_t ctx_{1};
  zmq::socket_t pull_, zap_, handshakes_;
  std::vector<std::map<std::int64_t, zmq::socket_t>> links_;  // [from][to], touched only by agent `from`
  std::thread receiver_;
  std::atomic<bool> stop_{false}, closed_{false}, warned_{false};
};

}  // namespace

common::result<protocols::frame> decode(const wire_bytes& w, const protocols::decode_limits& limits) {
  if (w.payload.empty()) return protocols::decode(w.bytes, limits);
  return protocols::decode(w.bytes, w.payload, limits);
}

bool checksum_matches(const wire_bytes& w) {
  if (!w.payload.empty()) return protocols::checksum_matches(w.bytes, w.payload);
  if (w.bytes.size() < protocols::frame_header_size) return false;
  return protocols::checksum_matches(w.bytes.first(protocols::frame_header_size),
                                     w.bytes.subspan(protocols::frame_header_size));
}

frame_parts split_frame(std::vector<std::byte> whole) {
  frame_parts f{};
  std::copy_n(whole.begin(), f.header.size(), f.header.begin());
  auto owner = std::make_shared<const std::vector<std::byte>>(std::move(whole));
  f.payload = std::span<const std::byte>(*owner).subspan(f.header.size());
  f.owner = std::move(owner);
  return f;
}

std::string endpoint(const network_settings& net, const std::string& run_id, std::int64_t rank) {
  switch (net.transport) {
    case transport_kind::inproc:
      return "inproc://murmur-" + run_id + "-" + std::to_string(rank);
    case transport_kind::ipc:
      return "ipc:///tmp/murmur-" + run_id + "-" + std::to_string(rank);
    case transport_kind::tcp:
      return "tcp://" + net.host + ":" + std::to_string(net.base_port + rank);
  }
  return {};
}

common::result<std::unique_ptr<transport>> make_zmq_transport(transport_args args) {
  auto t = std::make_unique<zmq_transport>(std::move(args));
  if (auto ok = t->start(); !ok) return ok.err();
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace murmur::actors
