#include "murmur/actors/launch.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "pmix_session.hpp"
#include "rendezvous.hpp"

namespace murmur::actors {
namespace {

using common::errc;
using common::make_error;

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
  } else if (const auto r = parse_count(env("SLURM_PROCID")), n = parse_count(env("SLURM_NTASKS")); r && n) {
    who = launcher{"slurm", *r, *n, parse_count(env("SLURM_LOCALID")).value_or(*r)};
  } else if (const auto r = parse_count(env("OMPI_COMM_WORLD_RANK")), n = parse_count(env("OMPI_COMM_WORLD_SIZE"));
             r && n) {
    who = launcher{"openmpi", *r, *n, parse_count(env("OMPI_COMM_WORLD_LOCAL_RANK")).value_or(*r)};
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
