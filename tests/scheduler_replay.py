"""Replays a seeded scheduling workload and prints one JSON line: a digest of every decision.

Run as a script in a child process, once with the compiled scheduler modules and
once with ``SLUICE_SCHEDULER_INTERPRETED=1``; the digests must be equal. The
workload touches every path: priorities, fair share between weighted tenants,
quotas, aging, two pools (one preemptible), NUMA policies, GPU memory, exclusive
GPUs, preemption, finished attempts, lost nodes, heartbeats listing attempts.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter

import msgspec
from scheduler_builders import job, node

from engine import compiled
from engine.model import new_job_id
from engine.scheduler.errors import QueueFull, Unschedulable
from engine.scheduler.policy import PoolPolicy, Quota, SchedulingPolicy, TenantPolicy
from engine.scheduler.scheduler import Scheduler

STEPS = 240


def replay(seed: int = 11) -> dict:
    rng = random.Random(seed)
    policy = SchedulingPolicy(
        tenants={"t0": TenantPolicy(weight=3.0),
                 "t1": TenantPolicy(quota=Quota(max_running=15, max_gpus=3, max_queued=60))},
        pools={"default": PoolPolicy(), "dev": PoolPolicy(preemptible=True, max_millicores=4000)},
        starvation_timeout_s=20.0)
    scheduler = Scheduler(policy)
    nodes = [node(f"n{i:03}", numa=2, cores_per_numa=8, gib_per_numa=64, pool="dev" if i % 6 == 0 else "default",
                  gpus=[(80, rng.choice([80, 60, 40]), g % 2) for g in range(4)] if i % 3 == 0 else [])
             for i in range(48)]
    for status in nodes:
        scheduler.node_status(status)
    digest, counts, running, serial = hashlib.sha256(), Counter(), [], 0

    def record(line: str) -> None:
        digest.update(line.encode() + b"\n")

    for step in range(STEPS):
        now = step * 0.5
        for _ in range(rng.randrange(0, 14)):
            serial += 1
            gpus = rng.choice([0, 0, 0, 1, 2])
            spec = job(f"t{rng.randrange(4)}", millicores=rng.choice([500, 1000, 4000, 8000]),
                       gib=rng.choice([1, 4, 16]), gpus=gpus, gpu_gib=rng.choice([10, 30, 70]) if gpus else 0,
                       numa=rng.choice(["none", "preferred", "strict"]), priority=rng.choice([50, 100, 200]),
                       pool=rng.choice(["default", "default", "dev"]), preemptible=rng.random() < 0.3,
                       exclusive_gpu=bool(gpus) and rng.random() < 0.2)
            spec = msgspec.structs.replace(spec, id=new_job_id(now_ms=serial, entropy=serial.to_bytes(10, "big")))
            try:
                scheduler.submit(spec, now)
            except (Unschedulable, QueueFull) as e:
                record(f"refused {e}")
                counts["refused"] += 1
        result = scheduler.cycle(now)
        for a in result.assignments:
            record(f"assign {a.job.key} {a.node_id} {a.placement}")
            running.append(a.job.key)
        for p in result.preemptions:
            record(f"preempt {p.job.key} {p.node_id} {p.victims}")
            for victim in p.victims:  # the node stops them
                scheduler.finished(victim)
                running.remove(victim)
        counts["assignments"] += len(result.assignments)
        counts["preemptions"] += len(result.preemptions)
        record(f"waiting {result.waiting}")
        for key in rng.sample(running, k=min(len(running), rng.randrange(0, 8))):
            scheduler.finished(key)
            running.remove(key)
        if step % 40 == 20:  # a node dies and comes back, reporting what it still runs
            victim = nodes[step % len(nodes)]
            lost = scheduler.node_lost(victim.node_id)
            record(f"lost {victim.node_id} {sorted(lost)}")
            running = [key for key in running if key not in lost]
            scheduler.node_status(victim)
            counts["nodes_lost"] += 1
        if step % 10 == 5:  # a heartbeat lists what the node runs: those reservations end, its numbers count
            status = nodes[step % len(nodes)]
            on_node = [key for key in running if scheduler.running[key].node_id == status.node_id]
            scheduler.node_status(msgspec.structs.replace(status, job_ids=on_node))
    for pending in sorted(scheduler.queues, key=lambda j: j.key):
        record(f"why {pending.key} {pending.why}")
    return {"compiled": compiled.in_use(), "digest": digest.hexdigest(), **counts}


if __name__ == "__main__":
    print(json.dumps(replay()))
