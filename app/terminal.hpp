#pragma once

// A one-line progress bar on a terminal; silent when stderr is not a tty.

#include <cstdint>
#include <string>

#include "murmur/common/clock.hpp"

namespace murmur::app {

class progress_line {
 public:
  // `clock` paces the redraws; it must outlive the line (default: steady).
  explicit progress_line(const common::clock* clock = nullptr);
  // Redraws at most ~10 times a second.
  void update(const std::string& prefix, std::int64_t done, std::int64_t total, const std::string& suffix);
  void clear();

 private:
  common::steady_clock steady_;
  const common::clock& clock_;
  bool enabled_;
  double last_ = 0;
  bool drawn_ = false;
};

}  // namespace murmur::app
