#include "terminal.hpp"

#include <unistd.h>

#include <cstdio>

namespace murmur::app {
progress_line::progress_line(const common::clock* clock)
    : clock_(clock ? *clock : steady_), enabled_(::isatty(STDERR_FILENO) == 1) {}

void progress_line::update(const std::string& prefix, std::int64_t done, std::int64_t total,
                           const std::string& suffix) {
  if (!enabled_) return;
  const double t = clock_.now_s();
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
