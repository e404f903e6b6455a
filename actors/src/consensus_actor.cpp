#include "consensus_actor.hpp"

#include <span>

#include "records.hpp"

namespace murmur::actors {

caf::behavior consensus_actor(caf::stateful_actor<consensus_state>* self, std::shared_ptr<consensus_args> args) {
  self->state.args = std::move(args);
  return {
      [=](control_atom, const control_report& r) {
        auto& st = self->state;
        const auto& a = *st.args;
        auto& w = st.rounds[r.round];
        w.agents.push_back(caf::actor_cast<caf::actor>(self->current_sender()));
        w.models.push_back(r.params);
        if (static_cast<std::int64_t>(w.models.size()) < a.agents) return;
        std::vector<std::span<const float>> models;
        for (const auto& m : w.models) models.emplace_back(*m);
        const double xi = protocols::consensus_distance(models);
        const auto slots = a.control.slots(), step = r.round / slots, gossip = r.round % slots;
        const double epoch = static_cast<double>(step) / static_cast<double>(a.rounds_per_epoch);
        const double target = a.control.target_at(epoch);
        const bool met = xi <= target;
        for (const auto& agent : w.agents) self->send(agent, verdict_atom::value, r.round, met);
        if (a.summary) {
          // Gossip steps beyond the training round's own: one per verdict that was not met.
          a.summary->extra_gossip_steps += met ? 0 : 1;
          a.summary->capped_steps += !met && gossip + 2 == slots ? 1 : 0;
          a.summary->training_steps += gossip == 0 ? 1 : 0;
          a.summary->last_distance = xi;
        }
        if (a.log)
          a.log->write({{"event", "consensus"},
                        {"round", r.round},
                        {"step", step},
                        {"gossip_step", gossip},
                        {"epoch", epoch},
                        {"distance", xi},
                        {"target", target},
                        {"met", met},
                        {"wall_time_s", a.clock->now_s() - a.start_s}});
        st.rounds.erase(r.round);
      },
  };
}

}  // namespace murmur::actors
