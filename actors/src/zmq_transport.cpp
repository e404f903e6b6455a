#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "murmur/actors/transport.hpp"

namespace murmur::actors {
namespace {

// The parts of one received message, owned together.
struct received {
  zmq::message_t head, body;
};

class zmq_transport final : public transport {
 public:
  zmq_transport(const network_settings& net, std::string run_id, std::int64_t rank, std::int64_t agents,
                deliver_fn deliver)
      : net_(net),
        run_id_(std::move(run_id)),
        rank_(rank),
        agents_(agents),
        links_(static_cast<std::size_t>(agents + net.processes)),
        deliver_(std::move(deliver)) {}

  ~zmq_transport() override { close(); }

  common::status start() {
    try {
      // ZeroMQ allows 1023 sockets unless told: a link is a socket.
      ctx_.set(zmq::ctxopt::max_sockets, static_cast<int>(std::min<std::int64_t>(4 * (agents_ + 1) + 64, 1 << 20)));
      pull_ = zmq::socket_t(ctx_, zmq::socket_type::pull);
      pull_.set(zmq::sockopt::rcvhwm, net_.queue);
      pull_.set(zmq::sockopt::linger, 0);
      pull_.bind(endpoint(net_, run_id_, rank_));
    } catch (const zmq::error_t& e) {
      return common::make_error(common::errc::io, "cannot bind " + endpoint(net_, run_id_, rank_) + ": " + e.what());
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
    pull_.close();
    ctx_.close();
  }

  std::uint64_t misrouted() const override { return misrouted_; }

 private:
  // The PUSH socket of link from -> to, opened on first use; null when no
  // socket can be opened (said once).
  zmq::socket_t* link_of(std::int64_t from, std::int64_t to) {
    auto& links = links_[static_cast<std::size_t>(from)];
    auto it = links.find(to);
    if (it == links.end()) {
      try {
        zmq::socket_t s(ctx_, zmq::socket_type::push);
        s.set(zmq::sockopt::sndhwm, net_.queue);
        s.set(zmq::sockopt::linger, 2000);  // close() still delivers what is queued
        s.connect(endpoint(net_, run_id_, home_of(to)));
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

  void receive_loop() {
    zmq::pollitem_t items[] = {{pull_.handle(), 0, ZMQ_POLLIN, 0}};
    while (!stop_) {
      zmq::poll(items, 1, std::chrono::milliseconds(50));
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      for (;;) {
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
        if (extra) {
          ++misrouted_;
          continue;
        }
        const auto span_of = [](const zmq::message_t& m) {
          return std::span<const std::byte>(static_cast<const std::byte*>(m.data()), m.size());
        };
        wire_bytes w{parts, span_of(parts->head), two ? span_of(parts->body) : std::span<const std::byte>()};
        // Routing reads only the receiver (codec.hpp's wire_header);
        // everything else is the agent's decoder's business.
        const auto receiver = protocols::peek_receiver(w.bytes);
        if (!receiver || *receiver >= static_cast<std::uint64_t>(agents_ + net_.processes) ||
            home_of(*receiver) != rank_) {
          ++misrouted_;
          continue;
        }
        deliver_(*receiver, std::move(w));
      }
    }
  }

  // Agents live in process a mod P; control id agents + r in process r.
  std::int64_t home_of(std::int64_t id) const { return id >= agents_ ? id - agents_ : process_of(id, net_.processes); }

  network_settings net_;
  std::string run_id_;
  std::int64_t rank_, agents_;
  zmq::context_t ctx_{1};
  zmq::socket_t pull_;
  std::vector<std::map<std::int64_t, zmq::socket_t>> links_;  // [from][to], touched only by agent `from`
  deliver_fn deliver_;
  std::thread receiver_;
  std::atomic<bool> stop_{false}, closed_{false}, warned_{false};
  std::atomic<std::uint64_t> misrouted_{0};
};

}  // namespace

common::result<protocols::frame> decode(const wire_bytes& w) {
  if (w.payload.empty()) return protocols::decode(w.bytes);
  return protocols::decode(w.bytes, w.payload);
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

common::result<std::unique_ptr<transport>> make_zmq_transport(const network_settings& net, std::string run_id,
                                                              std::int64_t rank, std::int64_t agents,
                                                              deliver_fn deliver) {
  auto t = std::make_unique<zmq_transport>(net, std::move(run_id), rank, agents, std::move(deliver));
  if (auto ok = t->start(); !ok) return ok.err();
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace murmur::actors
