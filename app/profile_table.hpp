#pragma once

// A run's profile (actors/profile.hpp) as the table `murmur run --profile`
// prints and as the metrics' "profile" record.

#include <nlohmann/json.hpp>
#include <string>

#include "murmur/actors/profile.hpp"

namespace murmur::app {

// `wall_s`: the run's wall time, setup included.
std::string profile_table(const actors::run_profile& p, std::int64_t agents, double wall_s);
nlohmann::json profile_record(const actors::run_profile& p, double wall_s);

}  // namespace murmur::app
