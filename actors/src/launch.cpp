#include "murmur/actors/launch.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pmix.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <zmq.hpp>

#include "zap.hpp"

namespace murmur::actors {
namespace {

using common::errc;
using common::make_error;

std::optional<std::int64_t> number(const char* v) {
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const auto x = std::strtoll(v, &end, 10);
  if (*end != '\0' || x < 0) return std::nullopt;
  return x;
}

// host:port -> (host, port).
common::result<std::pair<std::string, int>> host_port(const std::string& s, const char* what) {
  const auto colon = s.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : number(s.substr(colon + 1).c_str());
  if (colon == 0 || !port || *port < 1 || *port > 65535)
    return make_error(errc::invalid_argument, std::string(what) + " \"" + s + "\" is not host:port");
  return std::pair{s.substr(0, colon), static_cast<int>(*port)};
}

// ---- PMIx -------------------------------------------------------------------

// PMIx's job: init, put this process's values, fence with data collection,
// get everyone's, finalize. Keys: murmur.endpoint and murmur.key.
class pmix_session {
 public:
  common::status init() {
    if (const auto rc = PMIx_Init(&me_, nullptr, 0); rc != PMIX_SUCCESS)
      return make_error(errc::io, std::string("PMIx_Init: ") + PMIx_Error_string(rc));
    live_ = true;
    return {};
  }
  ~pmix_session() {
    if (live_) PMIx_Finalize(nullptr, 0);
  }
  std::int64_t rank() const { return me_.rank; }
  common::result<std::int64_t> job_size() {
    pmix_proc_t job;
    PMIX_PROC_CONSTRUCT(&job);
    std::memcpy(job.nspace, me_.nspace, sizeof job.nspace);
    job.rank = PMIX_RANK_WILDCARD;
    pmix_value_t* v = nullptr;
    if (const auto rc = PMIx_Get(&job, PMIX_JOB_SIZE, nullptr, 0, &v); rc != PMIX_SUCCESS || !v)
      return make_error(errc::io, std::string("PMIx_Get(job size): ") + PMIx_Error_string(rc));
    const std::int64_t size = v->type == PMIX_UINT32 ? v->data.uint32 : -1;
    PMIX_VALUE_RELEASE(v);
    if (size < 1) return make_error(errc::io, "PMIx gave no job size");
    return size;
  }
  std::int64_t local_rank() {
    pmix_value_t* v = nullptr;
    std::int64_t r = -1;
    if (PMIx_Get(&me_, PMIX_LOCAL_RANK, nullptr, 0, &v) == PMIX_SUCCESS && v) {
      if (v->type == PMIX_UINT16) r = v->data.uint16;
      PMIX_VALUE_RELEASE(v);
    }
    return r;
  }
  common::status put(const char* key, const std::string& value) {
    pmix_value_t v;
    PMIX_VALUE_CONSTRUCT(&v);
    v.type = PMIX_STRING;
    v.data.string = const_cast<char*>(value.c_str());
    const auto rc = PMIx_Put(PMIX_GLOBAL, key, &v);
    if (rc != PMIX_SUCCESS) return make_error(errc::io, std::string("PMIx_Put: ") + PMIx_Error_string(rc));
    return {};
  }
  common::status commit_and_fence() {
    if (const auto rc = PMIx_Commit(); rc != PMIX_SUCCESS)
      return make_error(errc::io, std::string("PMIx_Commit: ") + PMIx_Error_string(rc));
    pmix_proc_t job;
    PMIX_PROC_CONSTRUCT(&job);
    std::memcpy(job.nspace, me_.nspace, sizeof job.nspace);
    job.rank = PMIX_RANK_WILDCARD;
    pmix_info_t info;
    PMIX_INFO_CONSTRUCT(&info);
    bool collect = true;
    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    const auto rc = PMIx_Fence(&job, 1, &info, 1);
    PMIX_INFO_DESTRUCT(&info);
    if (rc != PMIX_SUCCESS) return make_error(errc::io, std::string("PMIx_Fence: ") + PMIx_Error_string(rc));
    return {};
  }
  common::result<std::string> get(std::int64_t rank, const char* key) {
    pmix_proc_t p;
    PMIX_PROC_CONSTRUCT(&p);
    std::memcpy(p.nspace, me_.nspace, sizeof p.nspace);
    p.rank = static_cast<pmix_rank_t>(rank);
    pmix_value_t* v = nullptr;
    const auto rc = PMIx_Get(&p, key, nullptr, 0, &v);
    if (rc != PMIX_SUCCESS || !v || v->type != PMIX_STRING || !v->data.string) {
      if (v) PMIX_VALUE_RELEASE(v);
      return make_error(errc::io, "PMIx_Get(" + std::string(key) + " of rank " + std::to_string(rank) +
                                      "): " + PMIx_Error_string(rc));
    }
    std::string out = v->data.string;
    PMIX_VALUE_RELEASE(v);
    return out;
  }

 private:
  pmix_proc_t me_{};
  bool live_ = false;
};

// ---- the rendezvous -----------------------------------------------------------

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
        const auto rank = number(msg[2].to_string().c_str());
        const auto their_size = number(msg[3].to_string().c_str());
        if (!rank || *rank < 1 || *rank >= size) {
          refuse("rank " + msg[2].to_string() + " is not in 1 .. " + std::to_string(size - 1));
          continue;
        }
        if (keys) {
          const char* user = zmq_msg_gets(msg[1].handle(), "User-Id");
          if (!user || number(user) != rank) {
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

// ---- the hostfile -------------------------------------------------------------

// One host per line ("#" comments); returns hosts in rank order.
common::result<std::vector<std::string>> read_hostfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(errc::not_found, "--hostfile: cannot read " + path);
  std::vector<std::string> hosts;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string host, extra;
    if (!(words >> host)) continue;
    if (words >> extra)
      return make_error(errc::invalid_argument,
                        path + ":" + std::to_string(n) + ": one host per line (repeat a host for more processes)");
    hosts.push_back(host);
  }
  if (hosts.empty()) return make_error(errc::invalid_argument, path + ": no hosts");
  return hosts;
}

}  // namespace

common::result<std::string> interface_address(const std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return make_error(errc::io, std::string("getifaddrs: ") + std::strerror(errno));
  std::string found, seen;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    seen += (seen.empty() ? "" : ", ") + std::string(i->ifa_name);
    const bool up = (i->ifa_flags & IFF_UP) != 0, loop = (i->ifa_flags & IFF_LOOPBACK) != 0;
    if (name.empty() ? (!up || loop) : name != i->ifa_name) continue;
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    found = text;
    break;
  }
  ::freeifaddrs(list);
  if (!found.empty()) return found;
  if (name.empty()) return std::string("127.0.0.1");  // a host with loopback only: its processes meet there
  return make_error(errc::not_found, "[network] interface \"" + name +
                                         "\" has no IPv4 address (interfaces: " + (seen.empty() ? "none" : seen) + ")");
}

common::result<std::optional<launcher>> detect_launcher(const launch_options& o) {
  const auto env = [&](const char* k) { return o.getenv ? o.getenv(k) : std::getenv(k); };
  if ((o.rank >= 0) != (o.world > 0)) return make_error(errc::invalid_argument, "--rank and --world go together");
  std::optional<launcher> who;
  if (o.rank >= 0) {
    who = launcher{"command line", o.rank, o.world, o.rank};
  } else if (env("PMIX_RANK") && env("PMIX_NAMESPACE")) {
    who = launcher{"pmix", 0, 0, 0};  // rank and size come from PMIx itself
    return who;
  } else if (const auto r = number(env("SLURM_PROCID")), n = number(env("SLURM_NTASKS")); r && n) {
    who = launcher{"slurm", *r, *n, number(env("SLURM_LOCALID")).value_or(*r)};
  } else if (const auto r = number(env("OMPI_COMM_WORLD_RANK")), n = number(env("OMPI_COMM_WORLD_SIZE")); r && n) {
    who = launcher{"openmpi", *r, *n, number(env("OMPI_COMM_WORLD_LOCAL_RANK")).value_or(*r)};
  }
  if (!o.hostfile.empty()) {
    if (!who)
      return make_error(errc::invalid_argument,
                        "--hostfile needs this process's rank: --rank K --world N, or a launcher's environment");
    who->name = "hostfile (" + who->name + ")";
  }
  if (who && (who->size < 1 || who->rank >= who->size))
    return make_error(errc::invalid_argument,
                      "rank " + std::to_string(who->rank) + " is not in 0 .. " + std::to_string(who->size - 1));
  return who;
}

common::result<world> launched_world(const settings& s, const launcher& given, const launch_options& o) {
  launcher who = given;
  std::optional<pmix_session> pmix;
  if (who.name == "pmix") {
    pmix.emplace();
    if (auto ok = pmix->init(); !ok) return ok.err();
    auto size = pmix->job_size();
    if (!size) return size.err();
    who.rank = pmix->rank();
    who.size = *size;
    const auto local = pmix->local_rank();
    who.local_rank = local >= 0 ? local : who.rank;
  }
  world w;
  w.rank = who.rank;
  w.size = who.size;
  w.launcher = who.name;
  w.home = place_agents(s.topology.agents, w.size, s.network.placement);

  // Keys: from the directory, else (PMIx only) fresh ones published through it.
  std::optional<key_set> keys;
  if (s.network.curve) {
    if (!s.network.keys.empty()) {
      auto k = read_keys(s.network.keys, w.rank, w.size);
      if (!k) return k.err();
      keys = std::move(*k);
    } else if (pmix) {
      keys.emplace();
      keys->own = new_keypair();
    } else {
      return make_error(errc::invalid_argument,
                        "[network] keys: a run launched by " + who.name +
                            " without PMIx needs its processes' keys: murmur keygen --dir DIR --processes " +
                            std::to_string(w.size) +
                            ", then network.keys = \"DIR\" (network.curve = false: no "
                            "authentication)");
    }
  }

  // Endpoints.
  const int port = s.network.base_port + static_cast<int>(who.local_rank);
  if (port > 65535) return make_error(errc::invalid_argument, "[network] base_port + local rank is past 65535");
  if (!o.hostfile.empty()) {
    auto hosts = read_hostfile(o.hostfile);
    if (!hosts) return hosts.err();
    if (static_cast<std::int64_t>(hosts->size()) != w.size)
      return make_error(errc::invalid_argument, o.hostfile + " names " + std::to_string(hosts->size()) +
                                                    " processes; this run has " + std::to_string(w.size));
    std::map<std::string, int> slot;
    for (const auto& h : *hosts)
      w.endpoints.push_back("tcp://" + h + ":" + std::to_string(s.network.base_port + slot[h]++));
    w.bind = "tcp://*:" + w.endpoints[static_cast<std::size_t>(w.rank)].substr(
                              w.endpoints[static_cast<std::size_t>(w.rank)].rfind(':') + 1);
  } else {
    auto address = interface_address(s.network.interface);
    if (!address) return address.err();
    const auto own = "tcp://" + *address + ":" + std::to_string(port);
    w.bind = own;
    if (pmix) {
      if (auto ok = pmix->put("murmur.endpoint", own); !ok) return ok.err();
      if (keys && s.network.keys.empty())
        if (auto ok = pmix->put("murmur.key", keys->own.public_key); !ok) return ok.err();
      if (auto ok = pmix->put("murmur.fingerprint", o.fingerprint); !ok) return ok.err();
      if (auto ok = pmix->commit_and_fence(); !ok) return ok.err();
      for (std::int64_t r = 0; r < w.size; ++r) {
        auto ep = pmix->get(r, "murmur.endpoint");
        if (!ep) return ep.err();
        w.endpoints.push_back(*ep);
        auto print = pmix->get(r, "murmur.fingerprint");
        if (!print) return print.err();
        if (*print != o.fingerprint)
          return make_error(errc::mismatch, "rank " + std::to_string(r) + "'s configuration differs from rank " +
                                                std::to_string(w.rank) + "'s");
        if (keys && s.network.keys.empty()) {
          auto k = pmix->get(r, "murmur.key");
          if (!k) return k.err();
          if (!is_curve_key(*k)) return make_error(errc::corrupt, "rank " + std::to_string(r) + "'s key is not a key");
          keys->publics.push_back(*k);
        }
      }
    } else {
      if (s.network.rendezvous.empty() && w.size > 1)
        return make_error(errc::invalid_argument, "a run launched by " + who.name +
                                                      " without PMIx needs a rendezvous: --rendezvous HOST:PORT "
                                                      "(rank 0's host) or [network] rendezvous");
      if (w.size == 1) {
        w.endpoints = {own};
      } else {
        auto table = rendezvous(s, who, own, keys, o.fingerprint);
        if (!table) return table.err();
        w.endpoints = std::move(*table);
      }
    }
  }
  if (keys) {
    w.key = keys->own;
    w.publics = keys->publics;
  }
  return w;
}

}  // namespace murmur::actors
