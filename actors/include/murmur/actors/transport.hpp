#pragma once

// Carries wire frames between agents. The ZeroMQ transport binds one PULL
// socket per process (inproc, ipc or tcp) and gives every link (sender,
// receiver) its own PUSH socket with a bounded queue: a send never blocks,
// and a frame that finds its link's queue full is dropped and reported, as a
// congested link would. A frame travels as a two-part ZeroMQ message: its
// own 56-byte header, then a payload that frames to other receivers share
// (a model sent to k peers is encoded once and never copied). Payloads are
// handed to ZeroMQ without a copy and delivered without one (the receiver
// gets the ZeroMQ messages themselves).
//
// Between processes (tcp, ipc) links use ZeroMQ CURVE unless told not to:
// the process's receive socket is a CURVE server whose ZAP handler admits
// only the run's public keys and names the process each key belongs to; a
// frame that claims a sender the authenticated process does not host is
// refused and counted (rejections.hpp). A frame larger than the run's
// largest is refused as oversized; ZeroMQ itself cuts one of more than
// four times that (closing the connection) before it is held in memory.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "murmur/actors/rejections.hpp"
#include "murmur/actors/settings.hpp"
#include "murmur/actors/world.hpp"
#include "murmur/common/result.hpp"
#include "murmur/protocols/codec.hpp"

namespace murmur::actors {

// Received bytes and whatever owns them: a whole frame in `bytes`, or (a
// two-part message) its header in `bytes` and its payload in `payload`.
struct wire_bytes {
  std::shared_ptr<const void> owner;
  std::span<const std::byte> bytes;
  std::span<const std::byte> payload;
  std::int64_t peer = -1;  // the authenticated process it came from; -1: unknown (no CURVE)
};
// The frame in `w`, checked by the codec.
common::result<protocols::frame> decode(const wire_bytes& w, const protocols::decode_limits& limits = {});
// Whether the frame in `w` carries a matching checksum (protocols::checksum_matches).
bool checksum_matches(const wire_bytes& w);

// A frame to send: its header, and a payload that `owner` keeps alive (and
// other frames may share).
struct frame_parts {
  protocols::header_bytes header;
  std::shared_ptr<const void> owner;
  std::span<const std::byte> payload;
};
// A whole encoded frame as parts (no copy of the payload).
frame_parts split_frame(std::vector<std::byte> whole);

class transport {
 public:
  virtual ~transport() = default;
  // Queues the frame on the link from -> to. False: the link's queue is full
  // and the frame was dropped. Thread: only agent `from`'s actor sends on
  // its links, one call at a time.
  virtual bool send_parts(std::int64_t from, std::int64_t to, frame_parts frame) = 0;
  // The same for a whole encoded frame (reports, control frames, replies),
  // which a transport may send as one part. REQUIRES: at least a header's bytes.
  virtual bool send(std::int64_t from, std::int64_t to, std::vector<std::byte> whole) {
    return send_parts(from, to, split_frame(std::move(whole)));
  }
  // Stops the receive side and closes every socket. REQUIRES: no send in flight.
  virtual void close() = 0;
};

// Called from the transport's receive thread for each frame for `receiver`.
using deliver_fn = std::function<void(std::int64_t receiver, wire_bytes frame)>;

// The endpoint process `rank` of a one-host run binds:
// inproc://murmur-<run>-<rank>, ipc:///tmp/murmur-<run>-<rank>, or
// tcp://host:(base_port + rank).
std::string endpoint(const network_settings& net, const std::string& run_id, std::int64_t rank);

struct transport_args {
  world where;                  // this process, the others' endpoints and keys, the placement
  network_settings net;         // queue sizes
  std::int64_t agents = 0;      // ids 0 .. agents - 1; agents + r is process r's control actor
  std::size_t max_frame = 0;    // the largest frame the run sends (bytes); 0: no limit
  rejection_table* rejections;  // counts what is refused (outlives the transport)
  deliver_fn deliver;
};
common::result<std::unique_ptr<transport>> make_zmq_transport(transport_args args);

}  // namespace murmur::actors
