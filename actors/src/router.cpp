#include "router.hpp"

#include "messages.hpp"

namespace murmur::actors {

router::router(std::int64_t agents, std::int64_t processes, rejection_table* rejections, std::size_t inbox_cap)
    : agents_(agents),
      rejections_(rejections),
      inbox_cap_(inbox_cap),
      inflight_(std::make_unique<std::atomic<std::int64_t>[]>(static_cast<std::size_t>(agents + processes))),
      actors_(static_cast<std::size_t>(agents + processes)),
      pending_(static_cast<std::size_t>(agents + processes)) {}

void router::send(const caf::actor& to, std::int64_t id, wire_bytes frame) const {
  if (id >= agents_)
    caf::anon_send(to, remote_atom::value, std::move(frame));
  else
    caf::anon_send(to, frame_atom::value, std::move(frame));
}

void router::deliver(std::int64_t to, wire_bytes frame) {
  std::lock_guard lock(mu_);
  const auto k = static_cast<std::size_t>(to);
  if (closed_) {
    ++dropped_;
    return;
  }
  // Frames kept before the actor exists count against the same bound.
  if (inflight_[k].load(std::memory_order_relaxed) >= static_cast<std::int64_t>(inbox_cap_)) {
    rejections_->count(rejection::overload, frame.peer);
    return;
  }
  inflight_[k].fetch_add(1, std::memory_order_relaxed);
  if (actors_[k]) return send(actors_[k], to, std::move(frame));
  pending_[k].push_back(std::move(frame));
}

void router::attach(std::int64_t id, caf::actor actor) {
  std::lock_guard lock(mu_);
  const auto k = static_cast<std::size_t>(id);
  for (auto& f : pending_[k]) send(actor, id, std::move(f));
  pending_[k].clear();
  actors_[k] = std::move(actor);
}

std::vector<caf::actor> router::detach_all() {
  std::lock_guard lock(mu_);
  closed_ = true;
  std::vector<caf::actor> out;
  for (auto& a : actors_)
    if (a) out.push_back(std::move(a));
  actors_.assign(actors_.size(), caf::actor{});
  for (auto& p : pending_) {
    dropped_ += p.size();
    p.clear();
  }
  return out;
}

std::uint64_t router::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace murmur::actors
