#pragma once

// A one-line progress bar on a terminal; silent when stderr is not a tty.

#include <cstdint>
#include <string>

namespace murmur::app {

class progress_line {
 public:
  progress_line();
  // Redraws at most ~10 times a second.
  void update(const std::string& prefix, std::int64_t done, std::int64_t total, const std::string& suffix);
  void clear();

 private:
  bool enabled_;
  double last_ = 0;
  bool drawn_ = false;
};

}  // namespace murmur::app
