#pragma once

// Reports of agents in other processes travel to the monitor (in process 0,
// addressed as id n) as control frames of the wire codec, so the decoder
// validates them like any frame. Payload: a record of named fields
// ("report" or "finished", then each metric by name) and the model in f32.
// When every agent has finished, the monitor tells each other process's
// relay (id n + r) that the run is over ("over"), and those processes close.

#include <caf/all.hpp>
#include <optional>
#include <vector>

#include "messages.hpp"
#include "murmur/protocols/codec.hpp"

namespace murmur::actors {

std::vector<std::byte> encode_report(const agent_report& r, std::int64_t monitor_id);
std::vector<std::byte> encode_finished(std::int64_t agent, std::int64_t monitor_id);
std::vector<std::byte> encode_over(std::int64_t monitor_id, std::int64_t relay_id);

struct remote_message {
  bool finished = false;
  bool over = false;
  agent_report report;  // a report; for finished only metrics.agent
};
std::optional<remote_message> decode_remote(common::result<protocols::frame> decoded);
inline std::optional<remote_message> decode_remote(std::span<const std::byte> bytes) {
  return decode_remote(protocols::decode(bytes));
}

// In a process other than 0: the agents' "monitor", forwarding to process 0,
// and the receiver of the monitor's "over".
class router;
struct relay_args {
  transport* net = nullptr;
  router* routes = nullptr;  // told when a frame is taken (the inbox bound)
  std::int64_t monitor_id = 0, relay_id = 0, local_agents = 0;
  std::function<void()> on_all_finished;  // this process's agents are done
  std::function<void()> on_over;          // the run is over everywhere
};
struct relay_state {
  std::shared_ptr<relay_args> args;
  std::int64_t finished = 0;
  static inline const char* name = "murmur-relay";
};
caf::behavior relay_actor(caf::stateful_actor<relay_state>* self, std::shared_ptr<relay_args> args);

}  // namespace murmur::actors
