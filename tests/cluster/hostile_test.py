#!/usr/bin/python3
"""A foreign process attacks a running `--processes 2` tcp run of murmur.

Attackers: a plain ZeroMQ socket without a key, one with a CURVE key that is
not the run's, and one holding process 1's own key (read from the run's key
directory) that sends, to process 0: garbage, bad-checksum and oversized
frames, well-formed poisoned model frames (values 1e30) claiming process 0's
agents (neighbours of the receiver, current rounds), forged and replayed
"finished" control frames for process 0's agents, frames for rounds far
ahead, frames from a non-neighbour, and a flood of 20,000 forged frames; and
to process 1: forged "over" frames (only process 0 may end the run).

It must show: the final accuracy of the clean run (the run is synchronous
and deterministic, so within 0.01 means unharmed), wall time within 1.2x
(+1 s for start-up noise), peak memory of process 0 within 1.2x (+50 MB),
and every refused frame counted under its reason, exactly where the count
is determined by what was sent (handshakes are retried by ZeroMQ, so auth
counts at least one per keyless socket).

Usage: hostile_test.py MURMUR REPO
"""
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import zmq

MAGIC = 0x524D524D
MODEL, CONTROL = 1, 5
DENSE_F32, RECORD = 1, 8
AGENTS = 8  # block placement: process 0 hosts 0-3, process 1 hosts 4-7; a ring


def frame(kind, sender, receiver, rnd, enc, dim, payload, bad_crc=False):
    head = struct.pack("<IHHIIQQdHHIII", MAGIC, 1, kind, sender, receiver, rnd, 0, 1.0, enc, 0, len(payload), dim, 0)
    crc = zlib.crc32(payload, zlib.crc32(head)) ^ (1 if bad_crc else 0)
    return head[:52] + struct.pack("<I", crc) + payload


def model(sender, receiver, rnd, n=16, value=1e30):
    return frame(MODEL, sender, receiver, rnd, DENSE_F32, n, struct.pack("<%df" % n, *([value] * n)))


def record(fields):
    out = struct.pack("<I", len(fields))
    for name, v in fields:
        out += bytes([len(name)]) + name.encode() + struct.pack("<d", v)
    return out


def finished(agent):
    return frame(CONTROL, agent, AGENTS + 0, 0, RECORD, 0, record([("finished", 1.0), ("agent", float(agent))]))


def over(relay):
    return frame(CONTROL, AGENTS + 0, AGENTS + relay, 0, RECORD, 0, record([("over", 1.0)]))


def read_key(path):
    text = open(path).read()
    return {k: v for k, v in re.findall(r'(\w+) = "([^"]+)"', text)}


def run(murmur, cfg, keys, port, out, attack=None):
    args = [murmur, "run", cfg, "--processes", "2", "--set", "run.rounds=150", "--set", 'network.placement="block"',
            "--set", 'network.keys="%s"' % keys, "--set", "network.base_port=%d" % port, "--set",
            'output.directory="%s"' % out, "--set", "output.progress=false"]
    start = time.monotonic()
    with open(out + ".out", "w") as o, open(out + ".err", "w") as e:
        p = subprocess.Popen(args, stdout=o, stderr=e)
        sent = attack(port) if attack else {}
        # wait4: the peak memory of process 0 itself (process 1 is its child, not ours).
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    stdout, stderr = open(out + ".out").read(), open(out + ".err").read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit("FAIL: murmur run exited %d\n%s\n%s" % (code, stdout, stderr))
    acc = float(re.search(r"final average-model accuracy ([0-9.]+)", stdout).group(1))
    return acc, wall, stdout, stderr, sent, usage.ru_maxrss / 1024


def attack(keys_dir):
    def go(port):
        ctx = zmq.Context()
        p1 = read_key(os.path.join(keys_dir, "process-1.key"))
        p0 = read_key(os.path.join(keys_dir, "process-0.pub"))
        srv0 = p0["public"]
        srv1 = read_key(os.path.join(keys_dir, "process-1.pub"))["public"]

        def push(endpoint, server=None, client=None):
            s = ctx.socket(zmq.PUSH)
            s.setsockopt(zmq.LINGER, 5000)
            s.setsockopt(zmq.SNDHWM, 0)
            if server:
                s.curve_serverkey = server.encode()
                s.curve_publickey = client[0].encode()
                s.curve_secretkey = client[1].encode()
            s.connect(endpoint)
            return s

        ep0, ep1 = "tcp://127.0.0.1:%d" % port, "tcp://127.0.0.1:%d" % (port + 1)
        stranger = zmq.curve_keypair()
        plain = push(ep0)
        foreign = push(ep0, srv0, (stranger[0].decode(), stranger[1].decode()))
        as1 = push(ep0, srv0, (p1["public"], p1["secret"]))
        as1_to_1 = push(ep1, srv1, (p1["public"], p1["secret"]))
        sent = {"codec": 0, "sender": 0, "window": 0, "neighbour": 0, "sender@1": 0}
        for _ in range(20):  # never get in: no key, and a key not of this run
            plain.send(model(4, 3, 0), zmq.NOBLOCK)
            foreign.send(model(4, 3, 0), zmq.NOBLOCK)
        rng = random.Random(7)
        for _ in range(10):  # garbage
            as1.send(bytes(rng.randrange(256) for _ in range(100)))
            sent["codec"] += 1
        for _ in range(10):  # bad checksum, from a neighbour process 1 hosts
            as1.send(frame(MODEL, 4, 3, 0, DENSE_F32, 4, struct.pack("<4f", 1, 2, 3, 4), bad_crc=True))
            sent["codec"] += 1
        for _ in range(2):  # oversized: past the run's largest frame
            as1.send(model(4, 3, 0, n=800_000, value=0.0))
            sent["codec"] += 1
        for r in range(21):  # poisoned models claiming agent 2 (process 0's), neighbour of 3, current rounds
            as1.send(model(2, 3, r))
            sent["sender"] += 1
        for _ in range(3):  # forged "finished" for process 0's agents, each replayed three times
            for a in range(4):
                as1.send(finished(a))
                sent["sender"] += 1
        for _ in range(10):  # far-future rounds, replayed
            as1.send(model(4, 3, 10**6))
            sent["window"] += 1
        for _ in range(10):  # agent 5 is no neighbour of agent 3
            as1.send(model(5, 3, 0))
            sent["neighbour"] += 1
        for _ in range(3):  # "over" for process 1's relay, as if from process 0's monitor
            as1_to_1.send(over(1))
            sent["sender@1"] += 1
        time.sleep(1.0)
        flood = model(0, 1, 0, n=64)
        for _ in range(20_000):  # a flood of forged frames
            as1.send(flood)
            sent["sender"] += 1
        for s in (plain, foreign, as1, as1_to_1):
            s.close()
        ctx.term()
        return sent

    return go


def main():
    murmur, repo = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="murmur-hostile-")
    cfg = os.path.join(repo, "configs", "cluster", "tiny.toml")
    keys = os.path.join(work, "keys")
    subprocess.run([murmur, "keygen", "--dir", keys, "--processes", "2"], check=True, stdout=subprocess.DEVNULL)
    port = 24000 + random.randrange(20) * 100  # below the ephemeral range (see launch_test.sh)
    clean = run(murmur, cfg, keys, port, os.path.join(work, "clean"))
    hit = run(murmur, cfg, keys, port + 10, os.path.join(work, "attacked"), attack(keys))
    sent = hit[4]
    # Process 0's refusals: its metrics' last record.
    last = [json.loads(l) for l in open(os.path.join(work, "attacked", "metrics.jsonl"))][-1]
    total, by = last["total"], last["from"]
    failures = []
    acc_ok = abs(hit[0] - clean[0]) <= 0.01
    wall_ok = hit[1] <= 1.2 * clean[1] + 1.0
    if not acc_ok:
        failures.append("accuracy %.4f attacked vs %.4f clean" % (hit[0], clean[0]))
    if not wall_ok:
        failures.append("wall %.1f s attacked vs %.1f s clean" % (hit[1], clean[1]))
    if hit[5] > 1.2 * clean[5] + 50:
        failures.append("peak memory %.0f MB attacked vs %.0f MB clean" % (hit[5], clean[5]))
    for why in ("codec", "sender", "window", "neighbour"):
        got = total.get(why, 0)
        if got != sent[why]:
            failures.append("%s: %d refused, %d sent" % (why, got, sent[why]))
        elif why != "codec" and by.get(why, {}).get("process 1", 0) != sent[why]:
            failures.append("%s not counted against process 1: %s" % (why, by.get(why)))
    if total.get("auth", 0) < 2:
        failures.append("auth: %d refused handshakes, expected at least 2" % total.get("auth", 0))
    m = re.search(r"process 1 refused: (.*)", hit[3])
    if not m or "sender %d (process 1: %d)" % (sent["sender@1"], sent["sender@1"]) not in m.group(1):
        failures.append("process 1 did not count the forged 'over' frames: %s" % (m.group(1) if m else hit[3]))
    for extra in ("overload", "misrouted"):
        if total.get(extra, 0):
            failures.append("unexpected %s refusals: %d" % (extra, total[extra]))
    print("clean:    accuracy %.4f, wall %.1f s, process 0 peak %.0f MB" % (clean[0], clean[1], clean[5]))
    print("attacked: accuracy %.4f, wall %.1f s (%.2fx), process 0 peak %.0f MB" %
          (hit[0], hit[1], hit[1] / clean[1], hit[5]))
    print("sent: %s" % sent)
    print("process 0 refused: %s" % json.dumps(by))
    print("process 1 refused: %s" % (m.group(1) if m else "?"))
    if failures:
        sys.exit("FAIL: " + "; ".join(failures))
    print("ok: the attacked run is the clean run; every refused frame counted")


if __name__ == "__main__":
    main()
