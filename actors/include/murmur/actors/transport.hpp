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

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "murmur/actors/settings.hpp"
#include "murmur/common/result.hpp"
#include "murmur/protocols/codec.hpp"

namespace murmur::actors {

// Received bytes and whatever owns them: a whole frame in `bytes`, or (a
// two-part message) its header in `bytes` and its payload in `payload`.
struct wire_bytes {
  std::shared_ptr<const void> owner;
  std::span<const std::byte> bytes;
  std::span<const std::byte> payload;
};
// The frame in `w`, checked by the codec.
common::result<protocols::frame> decode(const wire_bytes& w);

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
  // Frames that arrived for an agent not in this process, or too short to name one.
  virtual std::uint64_t misrouted() const = 0;
};

// Called from the transport's receive thread for each frame for `receiver`.
using deliver_fn = std::function<void(std::int64_t receiver, wire_bytes frame)>;

// The endpoint process `rank` binds: inproc://murmur-<run>-<rank>,
// ipc:///tmp/murmur-<run>-<rank>, or tcp://host:(base_port + rank).
std::string endpoint(const network_settings& net, const std::string& run_id, std::int64_t rank);
// Agent a lives in process a mod processes. Ids agents + r address process
// r's control actor: the monitor (r = 0) or the relay to it (r > 0).
inline std::int64_t process_of(std::int64_t agent, std::int64_t processes) { return agent % processes; }

common::result<std::unique_ptr<transport>> make_zmq_transport(const network_settings& net, std::string run_id,
                                                              std::int64_t rank, std::int64_t agents,
                                                              deliver_fn deliver);

}  // namespace murmur::actors
