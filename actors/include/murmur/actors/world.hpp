#pragma once

// The processes of one run and how they find and trust each other. A run is
// P processes; process `rank` hosts the agents its placement gives it, binds
// one endpoint, and connects to the others' endpoints. Where rank, P and the
// endpoints come from (launch.hpp's resolve_world): PMIx under mpirun or
// srun --mpi=pmix; the launcher's environment or --rank/--world plus rank
// 0's rendezvous; a hostfile; or the local `--processes P` spawn.
//
// Links between processes are authenticated and encrypted with ZeroMQ CURVE:
// each process holds a key pair, every process knows the others' public
// keys, and a receiving process admits only those keys and knows which
// process a frame came from (so a frame may claim only that process's agents).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "murmur/actors/settings.hpp"
#include "murmur/common/result.hpp"

namespace murmur::actors {

// A CURVE key pair in Z85 text (40 characters each).
struct curve_keypair {
  std::string public_key, secret_key;
  bool operator==(const curve_keypair&) const = default;
};
curve_keypair new_keypair();
// True if `z85` is 40 Z85 characters that decode to a 32-byte key.
bool is_curve_key(const std::string& z85);

// murmur keygen: DIR/process-<k>.key (both keys, mode 0600) and
// DIR/process-<k>.pub for k = 0 .. processes - 1.
common::status write_keys(const std::string& dir, std::int64_t processes);
// Process `rank`'s own pair and every process's public key from such a
// directory; errors name the file and what is wrong with it.
struct key_set {
  curve_keypair own;
  std::vector<std::string> publics;  // rank order
};
common::result<key_set> read_keys(const std::string& dir, std::int64_t rank, std::int64_t processes);

// Which process hosts each agent: block (process r hosts a contiguous
// range, sizes differing by at most one) or round-robin (a mod P).
std::vector<std::int64_t> place_agents(std::int64_t agents, std::int64_t processes, placement_kind kind);
// "process 0: agents 0-7; process 1: agents 8-15" (ranges collapsed).
std::string describe_placement(const std::vector<std::int64_t>& home, std::int64_t processes);

struct world {
  std::int64_t rank = 0, size = 1;
  std::string bind;                    // the endpoint this process binds
  std::vector<std::string> endpoints;  // where each process is reached (rank order)
  std::optional<curve_keypair> key;    // this process's; none: plain links (inproc or curve = false)
  std::vector<std::string> publics;    // each process's public key (with `key`)
  std::vector<std::int64_t> home;      // agent -> process
  std::string launcher = "local";      // how rank and endpoints were found (printed at start)
};

// The world of a run whose processes all live on this host (one process, or
// the `--processes P` spawn): endpoints from the transport, the run id and
// network.base_port; keys as given (none for inproc).
world local_world(const settings& s, const std::string& run_id, std::int64_t rank, std::optional<key_set> keys);

}  // namespace murmur::actors
