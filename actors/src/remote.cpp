#include "remote.hpp"

#include "router.hpp"

namespace murmur::actors {
namespace {

// The report's fields by name, declared once for both directions. Counts
// travel as f64 (exact up to 2^53).
struct metric_field {
  const char* name;
  double (*get)(const agent_metrics&);
  void (*set)(agent_metrics&, double);
};

template <auto Member>
constexpr metric_field member(const char* name) {
  return {name, [](const agent_metrics& m) { return static_cast<double>(m.*Member); },
          [](agent_metrics& m, double v) { m.*Member = static_cast<std::remove_cvref_t<decltype(m.*Member)>>(v); }};
}
template <auto Member>
constexpr metric_field counter(const char* name) {
  return {name, [](const agent_metrics& m) { return static_cast<double>(m.counters.*Member); },
          [](agent_metrics& m, double v) { m.counters.*Member = static_cast<std::uint64_t>(v); }};
}

const metric_field metric_fields[] = {
    member<&agent_metrics::agent>("agent"),
    member<&agent_metrics::round>("round"),
    member<&agent_metrics::epoch>("epoch"),
    member<&agent_metrics::train_loss>("train_loss"),
    member<&agent_metrics::test_accuracy>("test_accuracy"),
    member<&agent_metrics::test_loss>("test_loss"),
    counter<&protocols::protocol_counters::bytes_sent>("bytes_sent"),
    counter<&protocols::protocol_counters::bytes_received>("bytes_received"),
    counter<&protocols::protocol_counters::messages_sent>("messages_sent"),
    counter<&protocols::protocol_counters::messages_received>("messages_received"),
    counter<&protocols::protocol_counters::messages_missing>("messages_missing"),
    counter<&protocols::protocol_counters::messages_stale>("messages_stale"),
    counter<&protocols::protocol_counters::messages_ignored>("messages_ignored"),
    counter<&protocols::protocol_counters::staleness_max>("staleness_max"),
    member<&agent_metrics::messages_dropped>("messages_dropped"),
    member<&agent_metrics::messages_rejected>("messages_rejected"),
};

// The field of frames lost by one cause ("lost_drop", ...).
std::string lost_field(std::string_view cause) { return "lost_" + std::string(cause); }
// The field of the seconds spent in one phase ("seconds_compute", ...).
std::string phase_field(std::string_view p) { return "seconds_" + std::string(p); }

std::vector<std::byte> control(std::int64_t from, std::int64_t to, std::uint64_t round, protocols::payload body) {
  return protocols::encode({.header = {.kind = protocols::message_kind::control,
                                       .sender = static_cast<std::uint32_t>(from),
                                       .receiver = static_cast<std::uint32_t>(to),
                                       .round = round},
                            .body = std::move(body)});
}

}  // namespace

std::vector<std::byte> encode_report(const agent_report& r, std::int64_t monitor_id) {
  std::vector<std::pair<std::string, double>> fields{{"report", 1.0}};
  for (const auto& f : metric_fields) fields.emplace_back(f.name, f.get(r.metrics));
  for (const auto& n : loss_cause_names)
    fields.emplace_back(lost_field(n.name), static_cast<double>(r.metrics.lost[static_cast<std::size_t>(n.value)]));
  for (const auto& n : phase_names) fields.emplace_back(phase_field(n.name), r.metrics.phases[n.value]);
  return control(r.metrics.agent, monitor_id, r.metrics.round, protocols::record_payload(std::move(fields), *r.params));
}

std::vector<std::byte> encode_finished(std::int64_t agent, std::int64_t monitor_id) {
  return control(agent, monitor_id, 0,
                 protocols::record_payload({{"finished", 1.0}, {"agent", static_cast<double>(agent)}}, {}));
}

std::vector<std::byte> encode_over(std::int64_t monitor_id, std::int64_t relay_id) {
  return control(monitor_id, relay_id, 0, protocols::record_payload({{"over", 1.0}}, {}));
}

std::optional<remote_message> decode_remote(common::result<protocols::frame> f) {
  if (!f || f->header.kind != protocols::message_kind::control ||
      f->body.encoding != protocols::payload_encoding::record)
    return std::nullopt;
  const auto field = [&](std::string_view name) -> std::optional<double> {
    for (const auto& [k, v] : f->body.fields)
      if (k == name) return v;
    return std::nullopt;
  };
  remote_message out;
  if (field("over")) {
    out.over = true;
    return out;
  }
  // A report or "finished" speaks for its frame's sender only (whom the
  // transport has checked against the authenticated process).
  const auto sender = static_cast<double>(f->header.sender);
  if (field("finished")) {
    const auto agent = field("agent");
    if (!agent || *agent != sender) return std::nullopt;
    out.finished = true;
    out.report.metrics.agent = static_cast<std::int64_t>(*agent);
    return out;
  }
  if (!field("report")) return std::nullopt;
  // Every field must be there: a report without one is refused, not zero-filled.
  for (const auto& m : metric_fields) {
    const auto v = field(m.name);
    if (!v) return std::nullopt;
    m.set(out.report.metrics, *v);
  }
  for (const auto& n : loss_cause_names) {
    const auto v = field(lost_field(n.name));
    if (!v || *v < 0) return std::nullopt;
    out.report.metrics.lost[static_cast<std::size_t>(n.value)] = static_cast<std::uint64_t>(*v);
  }
  for (const auto& n : phase_names) {
    const auto v = field(phase_field(n.name));
    if (!v || !(*v >= 0)) return std::nullopt;
    out.report.metrics.phases[n.value] = *v;
  }
  if (out.report.metrics.agent != static_cast<std::int64_t>(sender)) return std::nullopt;
  out.report.params = std::make_shared<const std::vector<float>>(std::move(f->body.values));
  return out;
}

caf::behavior relay_actor(caf::stateful_actor<relay_state>* self, std::shared_ptr<relay_args> args) {
  self->state.args = std::move(args);
  return {
      [=](report_atom, const agent_report& r) {
        // The relay owns the links of id `monitor_id` (agents' links belong to their actors).
        const auto& a = *self->state.args;
        a.net->send(a.monitor_id, a.monitor_id, encode_report(r, a.monitor_id));
      },
      [=](finished_atom, std::int64_t agent) {
        auto& st = self->state;
        const auto& a = *st.args;
        a.net->send(a.monitor_id, a.monitor_id, encode_finished(agent, a.monitor_id));
        if (++st.finished == a.local_agents && a.on_all_finished) a.on_all_finished();
      },
      [=](remote_atom, const wire_bytes& w) {
        // Only the monitor's "over" is for the relay; anything else is dropped
        // (and only process 0 may send it: the transport checks the sender).
        const auto& a = *self->state.args;
        if (a.routes) a.routes->taken(a.relay_id);
        const auto m = decode_remote(decode(w));
        if (m && m->over && self->state.args->on_over) self->state.args->on_over();
      },
  };
}

}  // namespace murmur::actors
