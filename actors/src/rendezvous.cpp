#include "rendezvous.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <zmq.hpp>

#include "zap.hpp"

namespace murmur::actors {

using common::errc;
using common::make_error;

std::optional<std::int64_t> parse_count(const char* v) {
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const auto x = std::strtoll(v, &end, 10);
  if (*end != '\0' || x < 0) return std::nullopt;
  return x;
}

// host:port -> (host, port).
common::result<std::pair<std::string, int>> host_port(const std::string& s, const char* what) {
  const auto colon = s.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : parse_count(s.substr(colon + 1).c_str());
  if (colon == 0 || !port || *port < 1 || *port > 65535)
    return make_error(errc::invalid_argument, std::string(what) + " \"" + s + "\" is not host:port");
  return std::pair{s.substr(0, colon), static_cast<int>(*port)};
}

// Rank 0: collects every other rank's hello (rank, size, endpoint,
// fingerprint) and answers each with the table, or with why it is refused.
// Other ranks: say hello and wait for the table.
common::result<std::vector<std::string>> rendezvous(const settings& s, const launcher& who,
                                                    const std::string& own_endpoint, const std::optional<key_set>& keys,
                                                    const std::string& fingerprint) {
  auto where = host_port(s.network.rendezvous, "[network] rendezvous");
  if (!where) return where.err();
  const auto timeout = std::chrono::duration<double>(s.network.rendezvous_timeout_s);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto size = who.size;
  zmq::context_t ctx(1);
  rejection_table refused(size);
  try {
    if (who.rank == 0) {
      zmq::socket_t zap(ctx, zmq::socket_type::rep);
      const auto keymap = keys ? zap_keys(keys->publics) : zap_key_map{};
      if (keys) zap.bind("inproc://zeromq.zap.01");
      zmq::socket_t router(ctx, zmq::socket_type::router);
      router.set(zmq::sockopt::linger, 5000);  // the answers leave before the socket closes
      router.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 16);
      if (keys) {
        router.set(zmq::sockopt::curve_server, 1);
        router.set(zmq::sockopt::curve_secretkey, keys->own.secret_key);
        router.set(zmq::sockopt::zap_domain, "murmur-rendezvous");
      }
      router.bind("tcp://*:" + std::to_string(where->second));
      std::vector<std::string> table(static_cast<std::size_t>(size));
      table[0] = own_endpoint;
      std::map<std::int64_t, zmq::message_t> waiting;  // rank -> routing id
      zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {zap.handle(), 0, ZMQ_POLLIN, 0}};
      while (static_cast<std::int64_t>(waiting.size()) + 1 < size) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::string missing;
          for (std::int64_t r = 1; r < size; ++r)
            if (!waiting.contains(r)) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
          return make_error(errc::io, "rendezvous at " + s.network.rendezvous + ": no word from rank(s) " + missing +
                                          " within " + std::to_string(s.network.rendezvous_timeout_s) +
                                          " s (refused: " + refused.describe() + ")");
        }
        zmq::poll(items, keys ? 2 : 1, std::chrono::milliseconds(100));
        if (keys && (items[1].revents & ZMQ_POLLIN)) zap_answer(zap, keymap, refused);
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> msg;
        for (bool more = true; more;) {
          zmq::message_t part;
          (void)router.recv(part);
          more = part.more();
          msg.push_back(std::move(part));
        }
        const auto refuse = [&](const std::string& why) {
          refused.count(rejection::codec, -1);
          router.send(msg[0], zmq::send_flags::sndmore);
          router.send(zmq::str_buffer("refused"), zmq::send_flags::sndmore);
          router.send(zmq::buffer(why), zmq::send_flags::none);
        };
        if (msg.size() != 6 || msg[1].to_string() != "hello") {
          refused.count(rejection::codec, -1);
          continue;
        }
        const auto rank = parse_count(msg[2].to_string().c_str());
        const auto their_size = parse_count(msg[3].to_string().c_str());
        if (!rank || *rank < 1 || *rank >= size) {
          refuse("rank " + msg[2].to_string() + " is not in 1 .. " + std::to_string(size - 1));
          continue;
        }
        if (keys) {
          const char* user = zmq_msg_gets(msg[1].handle(), "User-Id");
          if (!user || parse_count(user) != rank) {
            refused.count(rejection::sender, user ? std::strtoll(user, nullptr, 10) : -1);
            refuse("rank " + std::to_string(*rank) + " must speak with rank " + std::to_string(*rank) + "'s key");
            continue;
          }
        }
        if (their_size != size) {
          refuse("this run has " + std::to_string(size) + " processes, rank " + std::to_string(*rank) + " says " +
                 msg[3].to_string());
          continue;
        }
        if (msg[5].to_string() != fingerprint) {
          refuse("rank " + std::to_string(*rank) + "'s configuration differs from rank 0's");
          continue;
        }
        table[static_cast<std::size_t>(*rank)] = msg[4].to_string();
        waiting[*rank] = std::move(msg[0]);
      }
      for (auto& [rank, id] : waiting) {
        router.send(id, zmq::send_flags::sndmore);
        router.send(zmq::str_buffer("world"), zmq::send_flags::sndmore);
        for (std::int64_t r = 0; r < size; ++r)
          router.send(zmq::buffer(table[static_cast<std::size_t>(r)]),
                      r + 1 < size ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
      return table;
    }
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    if (keys) {
      dealer.set(zmq::sockopt::curve_serverkey, keys->publics[0]);
      dealer.set(zmq::sockopt::curve_publickey, keys->own.public_key);
      dealer.set(zmq::sockopt::curve_secretkey, keys->own.secret_key);
    }
    dealer.connect("tcp://" + where->first + ":" + std::to_string(where->second));
    const std::string hello[] = {"hello", std::to_string(who.rank), std::to_string(size), own_endpoint, fingerprint};
    for (std::size_t i = 0; i < 5; ++i)
      dealer.send(zmq::buffer(hello[i]), i + 1 < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
    zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}};
    while (zmq::poll(items, 1, std::chrono::milliseconds(100)) == 0)
      if (std::chrono::steady_clock::now() > deadline)
        return make_error(errc::io, "rendezvous at " + s.network.rendezvous + ": no answer from rank 0 within " +
                                        std::to_string(s.network.rendezvous_timeout_s) +
                                        " s (is rank 0 running, with this run's keys?)");
    std::vector<std::string> reply;
    for (bool more = true; more;) {
      zmq::message_t part;
      (void)dealer.recv(part);
      more = part.more();
      reply.push_back(part.to_string());
    }
    if (reply.size() == 2 && reply[0] == "refused")
      return make_error(errc::invalid_argument, "rendezvous at " + s.network.rendezvous + " refused: " + reply[1]);
    if (reply.size() != static_cast<std::size_t>(size) + 1 || reply[0] != "world")
      return make_error(errc::corrupt, "rendezvous at " + s.network.rendezvous + ": not a murmur answer");
    return std::vector<std::string>(reply.begin() + 1, reply.end());
  } catch (const zmq::error_t& e) {
    return make_error(errc::io, "rendezvous at " + s.network.rendezvous + ": " + e.what());
  }
}

}  // namespace murmur::actors
