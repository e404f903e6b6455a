#!/usr/bin/env bash
# A one-node Slurm cluster for the tests, from Debian's slurm-wlm and munge,
# in a private directory: munged, slurmctld and slurmd for this host only.
#   tests/cluster/slurm.sh start DIR   starts them (as root); fails with their logs if one does not come up
#   tests/cluster/slurm.sh stop DIR    stops what start started (by the pid files in DIR)
# Use: SLURM_CONF=DIR/slurm.conf srun ...
set -euo pipefail
cmd=${1:?start or stop}
dir=$(realpath -m "${2:?a directory}")

logs() {
  for f in "$dir"/*.log; do
    [[ -f $f ]] && { echo "---- $f"; tail -n 30 "$f"; }
  done
}

if [[ $cmd == stop ]]; then
  for p in slurmd slurmctld munged; do
    if [[ -f $dir/$p.pid ]]; then
      kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
  exit 0
fi

[[ $(id -u) -eq 0 ]] || { echo "slurm.sh: the one-node cluster starts as root" >&2; exit 1; }
mkdir -p "$dir"/{munge,spool,state}
chmod 700 "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))

# munge: a fresh key, its own socket, run as root (-f: the key's owner is root).
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged -f --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=murmur-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=$((16817 + RANDOM % 1000))
SlurmdPort=$((17817 + RANDOM % 1000))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" || { logs; exit 1; }
slurmd -f "$SLURM_CONF" || { logs; exit 1; }
# Up when the node is idle.
for _ in $(seq 1 100); do
  if sinfo -h -o '%t' 2>/dev/null | grep -q idle; then
    echo "slurm: one node ($host, $cpus CPUs) up; SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "slurm.sh: the node did not come up within 20 s" >&2
sinfo 2>&1 || true
logs
exit 1
