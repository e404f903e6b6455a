#pragma once

// A process of a run that a launcher started (world.hpp): which launcher,
// this process's rank and the run's size, and the exchange of endpoints.
//
// - PMIx (Open MPI's mpirun, Slurm's srun --mpi=pmix): rank and size from
//   PMIx; each process puts its endpoint (and, without network.keys, a fresh
//   public key) and gets everyone's after a fence. PMIx is the launcher's
//   own authenticated channel, so its keys need no files.
// - The environment (srun without PMIx: SLURM_PROCID/SLURM_NTASKS; Open
//   MPI's OMPI_COMM_WORLD_RANK/SIZE) or --rank/--world: rank 0 serves a
//   rendezvous at network.rendezvous (host:port) where every process says
//   its rank and endpoint and gets the table back; CURVE with the keys of
//   network.keys, so only the run's processes take part.
// - A hostfile (one host per line, rank k on line k): endpoints follow from
//   it, nothing is exchanged (plain ssh starts the processes).
// The endpoint a process advertises is tcp://ADDRESS:(base_port + local
// rank), ADDRESS the IPv4 address of network.interface or, by default, of
// the first interface that is up and not loopback.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "murmur/actors/settings.hpp"
#include "murmur/actors/world.hpp"
#include "murmur/common/result.hpp"

namespace murmur::actors {

struct launch_options {
  std::int64_t rank = -1, world = -1;              // --rank/--world (-1: not given)
  std::string hostfile;                            // --hostfile
  std::string fingerprint;                         // of the configuration: a process with another one is refused
  std::function<const char*(const char*)> getenv;  // the environment (empty: the process's)
};

struct launcher {
  std::string name;  // "pmix", "slurm", "openmpi", "command line", "hostfile"
  std::int64_t rank = 0, size = 1, local_rank = 0;
};
// The launcher of this process; nullopt when none (a local run). Errors:
// half-given --rank/--world, a rank outside the size.
common::result<std::optional<launcher>> detect_launcher(const launch_options& o);

// The world of a launched process: endpoints exchanged (PMIx, rendezvous)
// or read (hostfile), keys read or made, agents placed.
common::result<world> launched_world(const settings& s, const launcher& who, const launch_options& o);

// The IPv4 address of interface `name`, or of the first non-loopback
// interface that is up when `name` is empty.
common::result<std::string> interface_address(const std::string& name);

}  // namespace murmur::actors
