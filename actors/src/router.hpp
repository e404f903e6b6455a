#pragma once

// Hands frames from the transport's receive thread to the process's actors.
// The actors are spawned after the transport has started (their arguments
// hold it), so a frame may arrive for an actor that does not exist yet (a
// faster process's first round): it is kept, up to `pending_cap` per
// receiver, and handed over when the actor is attached. Thread-safe: the
// receive thread delivers while the run's thread attaches and detaches.
//
// An actor's inbox is bounded: at most `inbox_cap` frames handed over and
// not yet taken (the actor calls taken()); more are dropped and counted as
// overload, so no flood grows a process's memory or an actor's mailbox.

#include <atomic>
#include <caf/all.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "murmur/actors/transport.hpp"

namespace murmur::actors {

class router {
 public:
  // Ids 0 .. agents - 1 are agents; id agents + r is process r's control
  // actor (the monitor in process 0, the relay elsewhere).
  router(std::int64_t agents, std::int64_t processes, rejection_table* rejections, std::size_t inbox_cap = 256);

  // From the receive thread. REQUIRES: 0 <= to < agents + processes (the transport checks).
  void deliver(std::int64_t to, wire_bytes frame);
  // The actor of `id` has taken one frame from its mailbox (any thread).
  void taken(std::int64_t id) { inflight_[static_cast<std::size_t>(id)].fetch_sub(1, std::memory_order_relaxed); }
  // Sends what arrived early, then routes to `actor`.
  void attach(std::int64_t id, caf::actor actor);
  // Ends routing to every actor (frames from now on are dropped and counted).
  std::vector<caf::actor> detach_all();
  // Frames dropped after detach_all (overloads are in the rejection table).
  std::uint64_t dropped() const;

 private:
  void send(const caf::actor& to, std::int64_t id, wire_bytes frame) const;

  std::int64_t agents_;
  rejection_table* rejections_;
  std::size_t inbox_cap_;
  std::unique_ptr<std::atomic<std::int64_t>[]> inflight_;
  mutable std::mutex mu_;
  std::vector<caf::actor> actors_;
  std::vector<std::vector<wire_bytes>> pending_;
  bool closed_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace murmur::actors
