#pragma once

// ZeroMQ's authentication protocol (ZAP, RFC 27) for CURVE: a REP socket at
// inproc://zeromq.zap.01 in a context answers each handshake of that
// context's CURVE servers. Admitted keys get their process's rank as the
// connection's user id (read back from every message as "User-Id").

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "murmur/actors/rejections.hpp"

namespace murmur::actors {

using zap_key_map = std::map<std::array<std::uint8_t, 32>, std::int64_t>;

// Z85 public keys in rank order -> binary key -> rank.
inline zap_key_map zap_keys(const std::vector<std::string>& publics) {
  zap_key_map out;
  for (std::size_t r = 0; r < publics.size(); ++r) {
    std::array<std::uint8_t, 32> k{};
    if (zmq_z85_decode(k.data(), publics[r].c_str())) out.emplace(k, static_cast<std::int64_t>(r));
  }
  return out;
}

// Answers one pending request: 200 with the rank for a run key, 400 (counted
// as an auth rejection with the peer's address) for anything else.
inline void zap_answer(zmq::socket_t& zap, const zap_key_map& keys, rejection_table& rejections) {
  std::vector<zmq::message_t> req;
  for (bool more = true; more;) {
    zmq::message_t part;
    if (!zap.recv(part, zmq::recv_flags::dontwait)) return;
    more = part.more();
    req.push_back(std::move(part));
  }
  // version, request id, domain, address, routing id, mechanism, credentials...
  if (req.size() < 6) return;  // not a ZAP request: nothing to answer
  const auto text = [&](std::size_t i) { return req[i].to_string(); };
  std::string status = "400", reason = "key not in this run", user;
  if (text(5) == "CURVE" && req.size() >= 7 && req[6].size() == 32) {
    std::array<std::uint8_t, 32> k{};
    std::memcpy(k.data(), req[6].data(), 32);
    if (const auto it = keys.find(k); it != keys.end()) {
      status = "200";
      reason = "OK";
      user = std::to_string(it->second);
    }
  } else {
    reason = "CURVE required";
  }
  if (status != "200") rejections.count_auth(text(3).empty() ? "unknown address" : text(3));
  const std::string reply[] = {"1.0", text(1), status, reason, user, ""};
  for (std::size_t i = 0; i < 6; ++i)
    (void)zap.send(zmq::buffer(reply[i]), i + 1 < 6 ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

}  // namespace murmur::actors
