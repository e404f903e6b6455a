#!/usr/bin/env bash
# murmur as one process of a larger run, on the engines clusters run, with
# real components (as root): Open MPI's mpirun (PMIx), a one-node Slurm
# started here (srun --mpi=pmix; plain srun with the rendezvous; the
# documented sbatch script), the documented hostfile run, and four hosts as
# network namespaces joined by a bridge (tcp, CURVE, rendezvous, each process
# on its own address and interface).
#
# The bound: these runs are synchronous with no faults, so every launch must
# reach the very model of the one-process run of the same configuration
# (same seed, same mixing): its final averaged-model accuracy within 0.002
# (the evaluation is deterministic; the slack only covers a summation
# order), and above 0.5 (five times chance), with no frame refused.
# Anything that cannot start fails the test with its log; nothing is skipped.
#
# Usage: tests/cluster/launch_test.sh MURMUR REPO
set -euo pipefail
murmur=$(realpath "$1")
repo=$(realpath "$2")
work=$(mktemp -d /tmp/murmur-launch.XXXXXX)
cd "$work"
export PATH="$(dirname "$murmur"):$PATH"
cfg=$repo/configs/cluster/tiny.toml
# Ports below Linux's ephemeral range (32768-60999), where an outgoing
# connection's local port could already hold one; the cluster tests run one
# at a time and take 20000-27999 (this one 20000-23900).
port=$((20000 + RANDOM % 40 * 100))
ns=()
cleanup() {
  "$repo/tests/cluster/slurm.sh" stop "$work/slurm" >/dev/null 2>&1 || true
  for n in "${ns[@]}"; do ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$n" 2>/dev/null || true; done
  ip link del "mbr$$" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
[[ $(id -u) -eq 0 ]] || { echo "FAIL: the cluster tests run as root (mpirun, slurmd, ip netns)"; exit 1; }

accuracy() { sed -n 's/.*final average-model accuracy \([0-9.]*\).*/\1/p' "$1" | tail -1; }
expect_same() {  # name log
  local a
  a=$(accuracy "$2")
  if [[ -z $a ]]; then echo "FAIL: $1: no final accuracy"; cat "$2"; exit 1; fi
  if ! grep -q "refused frames: none" "$2"; then echo "FAIL: $1: frames were refused"; cat "$2"; exit 1; fi
  if ! awk -v a="$a" -v r="$ref" 'BEGIN { d = a - r; if (d < 0) d = -d; exit !(d <= 0.002 && a > 0.5) }'; then
    echo "FAIL: $1: accuracy $a, one process reached $ref"; cat "$2"; exit 1
  fi
  echo "ok: $1: $(grep -m1 '^processes:' "$2" | cut -c1-90)...; accuracy $a"
}
next_port() { port=$((port + 10)); }

# The reference: one process.
"$murmur" run "$cfg" --set output.progress=false > ref.log 2>&1 || { cat ref.log; exit 1; }
ref=$(accuracy ref.log)
echo "one process: accuracy $ref"

# 1. Open MPI, PMIx path (as documented: mpirun -np 4 murmur run CONFIG).
next_port
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 4 murmur run "$cfg" \
  --set network.base_port=$port --set output.progress=false > mpi.log 2>&1 || { echo "FAIL: mpirun"; cat mpi.log; exit 1; }
grep -q "processes: 4 (pmix)" mpi.log || { echo "FAIL: mpirun did not take the PMIx path"; cat mpi.log; exit 1; }
expect_same "mpirun -np 4 (PMIx)" mpi.log

# 2. Slurm: a one-node cluster started here.
"$repo/tests/cluster/slurm.sh" start "$work/slurm"
export SLURM_CONF=$work/slurm/slurm.conf
next_port
timeout 300 srun -K -n 4 --overcommit --mpi=pmix murmur run "$cfg" --set network.base_port=$port \
  --set output.progress=false > srun-pmix.log 2>&1 || { echo "FAIL: srun --mpi=pmix"; cat srun-pmix.log; exit 1; }
grep -q "processes: 4 (pmix)" srun-pmix.log || { echo "FAIL: srun --mpi=pmix did not use PMIx"; cat srun-pmix.log; exit 1; }
expect_same "srun -n 4 --mpi=pmix" srun-pmix.log

murmur keygen --dir keys --processes 4 > /dev/null
next_port
timeout 300 srun -K -n 4 --overcommit murmur run "$cfg" --set network.base_port=$port --set 'network.keys="keys"' \
  --rendezvous 127.0.0.1:$((port + 9)) --set output.progress=false > srun.log 2>&1 ||
  { echo "FAIL: plain srun with the rendezvous"; cat srun.log; exit 1; }
grep -q "processes: 4 (slurm)" srun.log || { echo "FAIL: plain srun did not take SLURM_PROCID"; cat srun.log; exit 1; }
expect_same "srun -n 4 with the rendezvous" srun.log

# The documented sbatch script, as written (this 2-CPU node needs --overcommit).
next_port
mkdir -p configs && cp "$cfg" configs/quickstart.toml
printf '[network]\nbase_port = %d\n' $port >> configs/quickstart.toml
sed -i 's/^\[output\]$/[output]\nprogress = false/' configs/quickstart.toml
job=$(sbatch --parsable --wait --overcommit "$repo/configs/cluster/murmur.sbatch") ||
  { echo "FAIL: sbatch"; cat murmur-*.out 2>/dev/null; exit 1; }
expect_same "sbatch configs/cluster/murmur.sbatch" "murmur-$job.out"
"$repo/tests/cluster/slurm.sh" stop "$work/slurm"

# 3. The documented hostfile run: each rank started by hand (ssh HOST ... on a cluster).
next_port
for k in 0 1 2 3; do
  murmur run "$cfg" --hostfile "$repo/configs/cluster/hosts.txt" --rank $k --world 4 \
    --set 'network.keys="keys"' --set network.base_port=$port --set output.progress=false > host-$k.log 2>&1 &
done
wait || { echo "FAIL: hostfile run"; cat host-*.log; exit 1; }
grep -q "processes: 4 (hostfile" host-0.log || { echo "FAIL: the hostfile run"; cat host-0.log; exit 1; }
expect_same "hostfile run" host-0.log

# 4. Four hosts: network namespaces on a bridge, 10.77.K.0/24 style addresses.
bridge=mbr$$
ip link add "$bridge" type bridge || { echo "FAIL: cannot create a bridge"; exit 1; }
ip link set "$bridge" up
for k in 1 2 3 4; do
  n=murmur-h$k-$$
  ns+=("$n")
  ip netns add "$n"
  ip link add "mv$k-$$" type veth peer name "host$k"
  ip link set "host$k" netns "$n"
  ip link set "mv$k-$$" master "$bridge" up
  ip netns exec "$n" ip addr add "10.77.0.$k/24" dev "host$k"
  ip netns exec "$n" ip link set "host$k" up
  ip netns exec "$n" ip link set lo up
done
next_port
for k in 1 2 3 4; do
  ip netns exec "${ns[$((k - 1))]}" "$murmur" run "$cfg" --rank $((k - 1)) --world 4 --rendezvous 10.77.0.1:$((port + 9)) \
    --set 'network.keys="keys"' --set "network.interface=\"host$k\"" --set network.base_port=$port \
    --set network.rendezvous_timeout_s=60 --set output.progress=false > ns-$k.log 2>&1 &
done
wait || { echo "FAIL: the four-host run"; cat ns-*.log; exit 1; }
grep -q "process 3 at tcp://10.77.0.4:$((port + 3))" ns-1.log || { echo "FAIL: endpoints are not the hosts' addresses"; cat ns-1.log; exit 1; }
expect_same "4 hosts (network namespaces), tcp + CURVE + rendezvous" ns-1.log
echo "all launch paths passed"
