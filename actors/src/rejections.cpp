#include "murmur/actors/rejections.hpp"

namespace murmur::actors {

rejection_table::rejection_table(std::int64_t processes)
    : processes_(processes),
      counts_(
          std::make_unique<std::atomic<std::uint64_t>[]>(rejection_reasons * static_cast<std::size_t>(processes + 1))) {
}

std::size_t rejection_table::slot(rejection why, std::int64_t peer) const {
  if (peer < -1 || peer >= processes_) peer = -1;
  return static_cast<std::size_t>(why) * static_cast<std::size_t>(processes_ + 1) + static_cast<std::size_t>(peer + 1);
}

void rejection_table::count(rejection why, std::int64_t peer) {
  counts_[slot(why, peer)].fetch_add(1, std::memory_order_relaxed);
}

void rejection_table::count_auth(const std::string& address) {
  count(rejection::auth, -1);
  std::lock_guard lock(mu_);
  if (auth_from_.size() < 32 || auth_from_.contains(address))
    ++auth_from_[address];
  else
    ++auth_from_["other"];
}

std::uint64_t rejection_table::from(rejection why, std::int64_t peer) const {
  return counts_[slot(why, peer)].load(std::memory_order_relaxed);
}

std::uint64_t rejection_table::total(rejection why) const {
  std::uint64_t sum = 0;
  for (std::int64_t p = -1; p < processes_; ++p) sum += from(why, p);
  return sum;
}

std::uint64_t rejection_table::total() const {
  std::uint64_t sum = 0;
  for (const auto& n : rejection_names) sum += total(n.value);
  return sum;
}

std::map<std::string, std::uint64_t> rejection_table::auth_addresses() const {
  std::lock_guard lock(mu_);
  return auth_from_;
}

std::string rejection_table::describe() const {
  std::string out;
  for (const auto& n : rejection_names) {
    const auto t = total(n.value);
    if (t == 0) continue;
    if (!out.empty()) out += "; ";
    out += std::string(n.name) + " " + std::to_string(t) + " (";
    std::string parts;
    const auto add = [&](const std::string& who, std::uint64_t c) {
      if (c == 0) return;
      parts += (parts.empty() ? "" : ", ") + who + ": " + std::to_string(c);
    };
    if (n.value == rejection::auth) {
      for (const auto& [addr, c] : auth_addresses()) add(addr, c);
    } else {
      add("unauthenticated", from(n.value, -1));
      for (std::int64_t p = 0; p < processes_; ++p) add("process " + std::to_string(p), from(n.value, p));
    }
    out += parts + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace murmur::actors
