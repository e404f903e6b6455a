#pragma once

// The run's end as an event: whoever ends the run (the monitor when every
// agent has finished, the relay when process 0 says the run is over, an
// actor that died) opens the gate, and the run's thread, waiting on it,
// wakes at once. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace murmur::actors {

class run_gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // True once opened; otherwise waits up to `timeout` for it.
  bool wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace murmur::actors
