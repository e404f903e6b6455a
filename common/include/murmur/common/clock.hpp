#pragma once

// Time is injected: code that measures or waits takes a `clock&`, so tests can
// drive a manual clock and runs replay.

#include <chrono>

namespace murmur::common {

class clock {
 public:
  virtual ~clock() = default;
  // Seconds since an arbitrary, fixed origin; never decreases.
  virtual double now_s() const = 0;
};

class steady_clock final : public clock {
 public:
  double now_s() const override {
    using namespace std::chrono;
    return duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};

// A clock that moves only when told to (tests).
class manual_clock final : public clock {
 public:
  double now_s() const override { return now_; }
  void advance(double seconds) { now_ += seconds; }

 private:
  double now_ = 0.0;
};

}  // namespace murmur::common
