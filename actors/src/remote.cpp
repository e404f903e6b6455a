#include "remote.hpp"

namespace murmur::actors {
namespace {

constexpr std::size_t metric_fields = 17;

std::vector<std::byte> control(std::int64_t from, std::int64_t to, std::uint64_t round, std::vector<double> values) {
  return protocols::encode({.header = {.kind = protocols::message_kind::control,
                                       .sender = static_cast<std::uint32_t>(from),
                                       .receiver = static_cast<std::uint32_t>(to),
                                       .round = round},
                            .body = protocols::wide_payload(values)});
}

}  // namespace

std::vector<std::byte> encode_report(const agent_report& r, std::int64_t monitor_id) {
  const auto& m = r.metrics;
  const auto& c = m.counters;
  std::vector<double> v{1.0,
                        static_cast<double>(m.agent),
                        static_cast<double>(m.round),
                        m.epoch,
                        m.train_loss,
                        m.test_accuracy,
                        m.test_loss,
                        static_cast<double>(c.bytes_sent),
                        static_cast<double>(c.bytes_received),
                        static_cast<double>(c.messages_sent),
                        static_cast<double>(c.messages_received),
                        static_cast<double>(c.messages_missing),
                        static_cast<double>(c.messages_stale),
                        static_cast<double>(c.messages_ignored),
                        static_cast<double>(c.staleness_max),
                        static_cast<double>(m.messages_dropped),
                        static_cast<double>(m.messages_rejected),
                        m.compute_seconds};
  v.insert(v.end(), r.params->begin(), r.params->end());
  return control(m.agent, monitor_id, m.round, std::move(v));
}

std::vector<std::byte> encode_finished(std::int64_t agent, std::int64_t monitor_id) {
  return control(agent, monitor_id, 0, {2.0, static_cast<double>(agent)});
}

std::optional<remote_message> decode_remote(std::span<const std::byte> bytes) {
  auto f = protocols::decode(bytes);
  if (!f || f->header.kind != protocols::message_kind::control ||
      f->body.encoding != protocols::payload_encoding::dense_f64 || f->body.wide.size() < 2)
    return std::nullopt;
  const auto& v = f->body.wide;
  remote_message out;
  if (v[0] == 2.0) {
    out.finished = true;
    out.report.metrics.agent = static_cast<std::int64_t>(v[1]);
    return out;
  }
  if (v[0] != 1.0 || v.size() < metric_fields + 1) return std::nullopt;
  auto& m = out.report.metrics;
  auto& c = m.counters;
  const auto u = [&](std::size_t k) { return static_cast<std::uint64_t>(v[k]); };
  m.agent = static_cast<std::int64_t>(v[1]);
  m.round = u(2);
  m.epoch = v[3];
  m.train_loss = v[4];
  m.test_accuracy = v[5];
  m.test_loss = v[6];
  c.bytes_sent = u(7);
  c.bytes_received = u(8);
  c.messages_sent = u(9);
  c.messages_received = u(10);
  c.messages_missing = u(11);
  c.messages_stale = u(12);
  c.messages_ignored = u(13);
  c.staleness_max = u(14);
  m.messages_dropped = u(15);
  m.messages_rejected = u(16);
  m.compute_seconds = v[17];
  auto params = std::make_shared<std::vector<float>>(v.size() - metric_fields - 1);
  for (std::size_t k = 0; k < params->size(); ++k) (*params)[k] = static_cast<float>(v[metric_fields + 1 + k]);
  out.report.params = std::move(params);
  return out;
}

caf::behavior relay_actor(caf::stateful_actor<relay_state>* self, transport* net, std::int64_t monitor_id,
                          std::int64_t local_agents, std::function<void()> on_all_finished) {
  self->state.net = net;
  self->state.monitor_id = monitor_id;
  self->state.local_agents = local_agents;
  self->state.on_all_finished = std::move(on_all_finished);
  return {
      [=](report_atom, const agent_report& r) {
        // The relay owns the links of id `monitor_id` (agents' links belong to their actors).
        self->state.net->send(self->state.monitor_id, self->state.monitor_id, encode_report(r, self->state.monitor_id));
      },
      [=](finished_atom, std::int64_t agent) {
        auto& st = self->state;
        st.net->send(st.monitor_id, st.monitor_id, encode_finished(agent, st.monitor_id));
        if (++st.finished == st.local_agents && st.on_all_finished) st.on_all_finished();
      },
  };
}

}  // namespace murmur::actors
