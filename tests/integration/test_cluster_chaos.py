#!/usr/bin/python3
"""tests/integration/test_cluster_chaos.py - randomized faults against a
three-node cluster (N=3, QUORUM reads and writes, --fsync always).

Client threads write unique values to a few keys and read them back,
each request through a random node, while a chaos thread kills replicas
with SIGKILL, pauses them with SIGSTOP/SIGCONT and restarts them. Then
every node is killed at once and restarted. Every request is recorded
with its start and end time; afterwards:

  - no acknowledged write is lost: the final QUORUM value of a key is the
    value of the last acknowledged write, or of a write that did not end
    before that one began (concurrent, or unacknowledged but applied);
  - no QUORUM read went back in time: a read returns a value whose write
    did not end before the start of the last write acknowledged before
    the read began (and not nil once a write was acknowledged).

Nodes run on free loopback ports with temporary data dirs and are killed
by PID on exit. Exit status: 0 pass, 1 fail, 77 skipped (no redis-py).
Environment: RINGKV_BIN (the server), CHAOS_SECONDS (default 20),
CHAOS_SEED.
"""

import bisect
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import redis
except ImportError:
    print("SKIP: python3-redis is not installed", file=sys.stderr)
    sys.exit(77)

BIN = os.environ.get("RINGKV_BIN", "build/server/ringkv-server")
SECONDS = float(os.environ.get("CHAOS_SECONDS", "20"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
NODES = 3
KEYS = ["chaos:%d" % i for i in range(4)]
CLIENTS = 4
SECRET = "chaos-secret"
KILL_SHARE = float(os.environ.get("CHAOS_KILL_SHARE", "0.5"))


def free_port():
    """A port P with P and P + 10000 free on 127.0.0.1."""
    for _ in range(1000):
        p = random.randint(10240, 22000)
        ok = True
        for q in (p, p + 10000):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    raise RuntimeError("no free port")


class Node:
    def __init__(self, i, port, seeds, tmp):
        self.i = i
        self.port = port
        self.dir = os.path.join(tmp, "n%d" % i)
        os.makedirs(self.dir)
        self.log = open(os.path.join(self.dir, "log"), "ab")
        self.args = [BIN, "--port", str(port), "--bind", "127.0.0.1",
                     "--data-dir", os.path.join(self.dir, "data"),
                     "--node-id", "n%d" % i, "--zone", "z%d" % i,
                     "--seeds", seeds, "--cluster-secret", SECRET,
                     "--fsync", "always", "--threads", "1",
                     "--gossip-interval-ms", "100",
                     "--request-timeout", "1000"]
        self.proc = None
        self.paused = False

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=self.log)
        self.paused = False
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("node %d did not start" % self.i)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            if self.paused:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        self.paused = False

    def pause(self):
        if self.alive() and not self.paused:
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.alive() and self.paused:
            self.proc.send_signal(signal.SIGCONT)
            self.paused = False


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.writes = []    # (key, value, start, end, acked)
        self.reads = []     # (key, value, start, end)
        self.errors = {}

    def add_write(self, *w):
        with self.lock:
            self.writes.append(w)

    def add_read(self, *r):
        with self.lock:
            self.reads.append(r)

    def add_error(self, e):
        text = str(e).split(" ")[0]
        with self.lock:
            self.errors[text] = self.errors.get(text, 0) + 1


def client(cid, nodes, hist, stop, rng):
    conns = [redis.Redis(port=n.port, socket_timeout=5,
                         socket_connect_timeout=1) for n in nodes]
    seq = 0
    while not stop.is_set():
        key = rng.choice(KEYS)
        conn = rng.choice(conns)
        start = time.monotonic()
        if rng.random() < 0.5:
            seq += 1
            value = "c%d-%d" % (cid, seq)
            try:
                conn.set(key, value)
                hist.add_write(key, value, start, time.monotonic(), True)
            except redis.RedisError as e:
                # Unknown outcome: it may have been applied.
                hist.add_write(key, value, start, float("inf"), False)
                hist.add_error(e)
        else:
            try:
                v = conn.get(key)
                hist.add_read(key, v.decode() if v is not None else None,
                              start, time.monotonic())
            except redis.RedisError as e:
                hist.add_error(e)


def chaos(nodes, stop, rng, actions):
    if os.environ.get("CHAOS_NOFAULTS"):
        return
    while not stop.is_set():
        time.sleep(rng.uniform(0.3, 1.0))
        n = rng.choice(nodes)
        actions.append("@%.3f" % time.monotonic())
        others_ok = all(m.alive() and not m.paused for m in nodes
                        if m is not n)
        what = rng.random()
        if not n.alive():
            n.start()
            actions.append("start n%d" % n.i)
        elif n.paused:
            n.resume()
            actions.append("cont n%d" % n.i)
        elif not others_ok:
            continue        # keep a quorum most of the time
        elif what < KILL_SHARE:
            n.kill()
            actions.append("kill n%d" % n.i)
        else:
            n.pause()
            actions.append("stop n%d" % n.i)


def check(hist, final):
    problems = []
    acked = [w for w in hist.writes if w[4]]
    by_value = {(w[0], w[1]): w for w in hist.writes}
    for key in KEYS:
        kw = [w for w in acked if w[0] == key]
        if not kw:
            continue
        last = max(kw, key=lambda w: w[3])
        v = final.get(key)
        w = by_value.get((key, v))
        if w is None or w[3] < last[2]:
            problems.append("lost write: %s final %r, last acked %r" %
                            (key, v, last[1]))
    # Per key, the acknowledged writes by the time they were acked, so
    # that the last one acked before a read began is a binary search
    # (a scan of every write per read took minutes for long runs).
    ends = {}
    for key in KEYS:
        kw = sorted((w for w in acked if w[0] == key), key=lambda w: w[3])
        ends[key] = ([w[3] for w in kw], kw)
    for key, v, start, end in hist.reads:
        times, kw = ends.get(key, ([], []))
        i = bisect.bisect_left(times, start)
        if i == 0:
            continue
        last = kw[i - 1]
        w = by_value.get((key, v))
        if v is None or w is None or w[3] < last[2]:
            problems.append("stale read of %s at %.3f: %r, but %r was "
                            "acked at %.3f" % (key, start, v, last[1],
                                               last[3]))
    return problems


def main():
    rng = random.Random(SEED)
    print("seed %d, %.0f s" % (SEED, SECONDS))
    tmp = tempfile.mkdtemp(prefix="ringkv-chaos-")
    nodes = []
    try:
        ports = []
        while len(ports) < NODES:
            p = free_port()
            if all(abs(p - q) not in (0, 10000) for q in ports):
                ports.append(p)
        seeds = ",".join("127.0.0.1:%d" % (p + 10000) for p in ports)
        nodes = [Node(i + 1, p, seeds, tmp) for i, p in enumerate(ports)]
        for n in nodes:
            n.start()
        # Wait until every node sees all three alive.
        deadline = time.time() + 20
        while time.time() < deadline:
            infos = [redis.Redis(port=n.port).info("cluster")
                     for n in nodes]
            if all(i.get("cluster_alive") == NODES for i in infos):
                break
            time.sleep(0.1)
        hist = History()
        stop = threading.Event()
        actions = []
        threads = [threading.Thread(target=client,
                                    args=(c, nodes, hist, stop,
                                          random.Random(SEED + c)))
                   for c in range(CLIENTS)]
        threads.append(threading.Thread(target=chaos,
                                        args=(nodes, stop,
                                              random.Random(SEED - 1),
                                              actions)))
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(30)
        # Everyone down at once, then up again.
        for n in nodes:
            n.kill()
        actions.append("kill all")
        for n in nodes:
            n.start()
        time.sleep(1)
        final = {}
        r = redis.Redis(port=nodes[0].port, socket_timeout=5)
        for key in KEYS:
            for _ in range(50):
                try:
                    v = r.get(key)
                    final[key] = v.decode() if v is not None else None
                    break
                except redis.RedisError:
                    time.sleep(0.2)
            else:
                print("FAIL: no QUORUM read of %s after the restart" % key)
                return 1
        acked = sum(1 for w in hist.writes if w[4])
        print("writes %d (acked %d), reads %d, errors %s" %
              (len(hist.writes), acked, len(hist.reads), hist.errors))
        print("chaos: " + ", ".join(actions))
        problems = check(hist, final)
        if problems and os.environ.get("CHAOS_KEEP"):
            with open(os.path.join(tmp, "history"), "w") as f:
                for w in hist.writes:
                    f.write("W %s %s %.4f %.4f %s\n" % w)
                for rd in hist.reads:
                    f.write("R %s %s %.4f %.4f\n" % rd)
        for p in problems[:20]:
            print("FAIL: " + p)
        if acked < 20:
            print("FAIL: only %d writes were acknowledged" % acked)
            return 1
        for n in nodes:
            if n.alive():
                n.proc.send_signal(signal.SIGTERM)
                n.proc.wait(20)
        return 1 if problems else 0
    finally:
        for n in nodes:
            n.kill()
        if os.environ.get("CHAOS_KEEP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
