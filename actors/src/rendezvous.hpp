#pragma once

// Rank 0's rendezvous for runs launched without PMIx (launch.hpp): every
// other rank says hello (rank, size, endpoint, configuration fingerprint)
// over ZeroMQ, CURVE with the run's keys when it has them, and gets the
// table of endpoints back, or why it was refused.

#include <optional>
#include <string>
#include <vector>

#include "murmur/actors/launch.hpp"

namespace murmur::actors {

// The endpoints of every rank (rank order), from rank 0 at network.rendezvous.
common::result<std::vector<std::string>> rendezvous(const settings& s, const launcher& who,
                                                    const std::string& own_endpoint, const std::optional<key_set>& keys,
                                                    const std::string& fingerprint);
// "host:port" -> (host, port); `what` names the setting in the error.
common::result<std::pair<std::string, int>> host_port(const std::string& s, const char* what);
// A non-negative decimal number, or nullopt.
std::optional<std::int64_t> parse_count(const char* v);

}  // namespace murmur::actors
