#include "terminal.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace murmur::app {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

progress_line::progress_line() : enabled_(::isatty(STDERR_FILENO) == 1) {}

void progress_line::update(const std::string& prefix, std::int64_t done, std::int64_t total,
                           const std::string& suffix) {
  if (!enabled_) return;
  const double t = now_s();
  if (done < total && t - last_ < 0.1) return;
  last_ = t;
  constexpr int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : 0;
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %s\033[K", prefix.c_str(), bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), suffix.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void progress_line::clear() {
  if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace murmur::app
