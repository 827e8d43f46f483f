"""Leader failover and failure detection over loopback DDS with a real Kafka broker.

    python -m benchmarks.failover [--trials 20] [--lease 0.2] [--sim-nodes 50]

- failover: kill -9 of the leader -> a live term with a higher epoch seen over DDS.
  A term is announced only after its epoch is committed in Kafka under the
  scheduler's transactional id, so this includes fencing the previous leader.
  3 coordinator processes; the killed one is restarted (as a follower) after each trial.
- detection: kill -9 of a node -> its heartbeat instance not alive at an observer.
- membership: 50 simulated nodes (5 processes x 10 writers) seen by an observer,
  one process killed -> exactly its 10 nodes leave; heartbeat CPU cost per node.
Baseline in the same run: the lease itself (the floor for detection).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

import psutil

from benchmarks._report import finish, percentiles
from control_plane.channels import ControlTopics
from control_plane.config import DdsConfig
from control_plane.election import newest_live
from control_plane.membership import Membership
from control_plane.participant import create_participant
from data_plane.broker import BrokerConfig, LocalBroker

SLUICE = [sys.executable, "-c", "from engine.cli import main; main()"]


class Observer:
    def __init__(self, domain: int, prefix: str) -> None:
        topics = ControlTopics(create_participant(DdsConfig(domain_id=domain)), prefix=prefix)
        self.nodes, self.leaders = topics.nodes.reader(), topics.leader.reader()
        self.membership = Membership()

    def poll(self):
        self.membership.refresh(self.nodes.read())
        return self.membership.snapshot(), newest_live(self.leaders.read())

    def wait(self, predicate, timeout_s: float = 30.0, interval_s: float = 0.002):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            snapshot, term = self.poll()
            if predicate(snapshot, term):
                return time.monotonic(), snapshot, term
            time.sleep(interval_s)
        raise TimeoutError("condition not met")


def start_coordinator(node: str, bootstrap: str, domain: int, prefix: str, lease: float, logs: str):
    log = open(os.path.join(logs, f"{node}.log"), "ab")  # noqa: SIM115 - lives with the process
    return subprocess.Popen([*SLUICE, "coordinator", "--node-id", node, "--bootstrap", bootstrap, "--domain",
                             str(domain), "--prefix", prefix, "--lease", str(lease)], stdout=log, stderr=log)


def failover_trials(args, bootstrap: str, logs: str) -> tuple[list[float], list[float]]:
    prefix, domain = f"bench-{os.getpid()}", args.domain
    observer = Observer(domain, prefix)
    procs = {n: start_coordinator(n, bootstrap, domain, prefix, args.lease, logs) for n in ("n1", "n2", "n3")}
    failovers, detections = [], []
    try:
        observer.wait(lambda s, t: t is not None and len(s.nodes) == 3, timeout_s=60)
        for trial in range(args.trials):
            time.sleep(1.0)  # steady state: followers warm, leader acting
            _, _, term = observer.wait(lambda s, t: t is not None and len(s.nodes) == 3, timeout_s=60)
            victim = term.node
            killed_at = time.monotonic()
            procs[victim].kill()
            detected, _, _ = observer.wait(lambda s, t: victim not in s.nodes)
            elected, _, new = observer.wait(lambda s, t: t is not None and t.epoch > term.epoch and t.node != victim)
            failovers.append((elected - killed_at) * 1000)
            detections.append((detected - killed_at) * 1000)
            print(f"trial {trial + 1}: {victim} -> {new.node} epoch {new.epoch} in {failovers[-1]:.0f} ms "
                  f"(detected {detections[-1]:.0f} ms)", file=sys.stderr)
            procs[victim].wait(10)
            procs[victim] = start_coordinator(victim, bootstrap, domain, prefix, args.lease, logs)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.wait(20)
    return failovers, detections


def membership_at_scale(args) -> dict:
    prefix, domain = f"sim-{os.getpid()}", args.domain + 1
    per_process = 10
    observer = Observer(domain, prefix)
    seconds = 20.0
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks._heartbeats", "--first", str(i * per_process),
                               "--count", str(per_process), "--domain", str(domain), "--prefix", prefix,
                               "--lease", str(args.lease), "--seconds", str(seconds)])
             for i in range(args.sim_nodes // per_process)]
    try:
        started = time.monotonic()
        observer.wait(lambda s, t: len(s.nodes) == args.sim_nodes, timeout_s=60)
        seen_all_s = time.monotonic() - started
        time.sleep(3.0)
        cpu = [psutil.Process(p.pid).cpu_times() for p in procs]
        window_start = time.monotonic()
        time.sleep(5.0)
        cpu_after = [psutil.Process(p.pid).cpu_times() for p in procs]
        window = time.monotonic() - window_start
        used = sum((b.user + b.system) - (a.user + a.system) for a, b in zip(cpu, cpu_after))
        procs[0].kill()
        killed_at = time.monotonic()
        detected, snapshot, _ = observer.wait(lambda s, t: len(s.nodes) == args.sim_nodes - per_process)
        correct = all(f"sim-{i:03}" not in snapshot.nodes for i in range(per_process))
        time.sleep(1.0)
        stable = len(observer.poll()[0].nodes) == args.sim_nodes - per_process
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
    return {"nodes": args.sim_nodes, "all_seen_after_s": round(seen_all_s, 2),
            "one_process_killed_left_ms": round((detected - killed_at) * 1000, 1),
            "view_correct_after_kill": correct and stable,
            "heartbeat_cpu_ms_per_node_per_s": round(used / window / args.sim_nodes * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--lease", type=float, default=0.2)
    parser.add_argument("--sim-nodes", type=int, default=50)
    parser.add_argument("--domain", type=int, default=210)
    args = parser.parse_args()
    logs = tempfile.mkdtemp(prefix="sluice-failover-")
    with LocalBroker(BrokerConfig(data_dir=tempfile.mkdtemp(prefix="sluice-failover-kafka-"))) as broker:
        failovers, detections = failover_trials(args, broker.bootstrap, logs)
    scale = membership_at_scale(args)
    finish("failover", {
        "lease_ms": args.lease * 1000, "trials": len(failovers),
        "failover_ms": percentiles(failovers), "detection_ms": percentiles(detections),
        "detection_vs_lease_p50": round(percentiles(detections)["p50"] / (args.lease * 1000), 2),
        "membership_50": scale, "logs": logs,
    })


if __name__ == "__main__":
    main()
