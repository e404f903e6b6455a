#pragma once

// What a process refused, by reason and by the peer process it came from.
// Shared by the transport (which knows the authenticated peer) and the
// process's agents (which judge neighbours, rounds and the codec); counting
// is lock-free except for the addresses of refused handshakes.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "murmur/common/enum_names.hpp"

namespace murmur::actors {

enum class rejection {
  auth,       // a CURVE handshake with a key that is not the run's (or no key)
  sender,     // the frame claims an agent the authenticated process does not host
  neighbour,  // the claimed sender is not the receiver's neighbour in that round
  window,     // a round too far ahead of (or behind) the receiving agent's
  codec,      // not a valid frame: truncated, bad checksum, oversized, bad fields
  overload,   // the receiver's inbox was full (a flood)
  misrouted,  // for an agent this process does not host, or not addressed at all
};
inline constexpr common::enum_name<rejection> rejection_names[] = {
    {rejection::auth, "auth"},          {rejection::sender, "sender"}, {rejection::neighbour, "neighbour"},
    {rejection::window, "window"},      {rejection::codec, "codec"},   {rejection::overload, "overload"},
    {rejection::misrouted, "misrouted"}};
constexpr std::span<const common::enum_name<rejection>> names_of(rejection) { return rejection_names; }
inline constexpr std::size_t rejection_reasons = std::size(rejection_names);

class rejection_table {
 public:
  explicit rejection_table(std::int64_t processes);
  // `peer`: the authenticated process it came from; -1 when unknown (no CURVE).
  void count(rejection why, std::int64_t peer);
  // A refused handshake from `address` (as ZeroMQ's ZAP request gives it).
  void count_auth(const std::string& address);

  std::uint64_t total(rejection why) const;
  std::uint64_t total() const;
  std::uint64_t from(rejection why, std::int64_t peer) const;  // peer -1: unknown
  std::int64_t processes() const { return processes_; }
  // Refused handshakes per address (at most 32 addresses; the rest as "other").
  std::map<std::string, std::uint64_t> auth_addresses() const;
  // One line: "auth 3 (127.0.0.1: 3); sender 40 (process 1: 40); ..." or "none".
  std::string describe() const;

 private:
  std::size_t slot(rejection why, std::int64_t peer) const;
  std::int64_t processes_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // [reason][peer + 1]
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> auth_from_;
};

}  // namespace murmur::actors
