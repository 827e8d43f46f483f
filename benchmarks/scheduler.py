"""Placement decisions/s and per-decision latency: 10,000 queued jobs over 1,000 simulated nodes.

    python -m benchmarks.scheduler [--nodes 1000] [--jobs 10000] [--baseline-jobs 500] [--repeats 5] [--profile]

Workload (seeded, declarative below): nodes of 2 NUMA nodes x 16 cores x 128 GiB,
half of them with 4 GPUs of 80 GiB on mixed free memory; jobs from 20 tenants, a
mix of CPU-only, NUMA-strict and GPU jobs. Each decision is timed as one
`Scheduler.cycle(max_decisions=1)` (queue pick, quota, placement, reservation).
The figure is the median of ``--repeats`` fresh runs (this machine is noisy).
Baselines in the same run: the same plugins scoring *every* feasible node (no
best-fit index, no candidate cap), on the first ``--baseline-jobs`` jobs; and,
when the mypyc-compiled modules are in use, the interpreted sources in a child
process (see ``engine.compiled``).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import time

from benchmarks._report import finish, percentiles
from engine import compiled
from engine.compiled import INTERPRETED_ENV
from engine.model import GpuDevice, JobSpec, NodeStatus, NumaNodeCapacity, NumaPolicy, Resources, new_job_id
from engine.model.limits import GiB
from engine.scheduler.placement import Placer
from engine.scheduler.scheduler import Scheduler

WORKLOAD = {
    "numa_per_node": 2, "cores_per_numa": 16, "gib_per_numa": 128, "gpu_node_share": 0.5, "gpus_per_node": 4,
    "tenants": 20,
    "shapes": [  # (weight, millicores, GiB, gpus, GPU GiB, numa)
        (50, 1000, 2, 0, 0, "none"), (20, 4000, 16, 0, 0, "strict"), (15, 500, 1, 0, 0, "preferred"),
        (10, 2000, 8, 1, 20, "preferred"), (5, 4000, 32, 2, 40, "strict"),
    ],
}


def build_nodes(count: int, rng: random.Random) -> list[NodeStatus]:
    w = WORKLOAD
    nodes = []
    for i in range(count):
        cores, gib = w["cores_per_numa"], w["gib_per_numa"]
        numa = [NumaNodeCapacity(id=n, cpus=list(range(n * cores, (n + 1) * cores)), total_millicores=cores * 1000,
                                 free_millicores=cores * 1000, total_memory_bytes=gib * GiB,
                                 free_memory_bytes=gib * GiB) for n in range(w["numa_per_node"])]
        gpus = []
        if rng.random() < w["gpu_node_share"]:
            gpus = [GpuDevice(index=g, uuid=f"GPU-{i}-{g}", total_memory_bytes=80 * GiB,
                              free_memory_bytes=rng.choice([80, 80, 60, 40]) * GiB, numa_node=g % 2)
                    for g in range(w["gpus_per_node"])]
        nodes.append(NodeStatus(node_id=f"node-{i:04}", numa=numa, gpus=gpus))
    return nodes


def build_jobs(count: int, rng: random.Random) -> list[JobSpec]:
    shapes = WORKLOAD["shapes"]
    weights = [s[0] for s in shapes]
    jobs = []
    for i in range(count):
        _, mc, gib, gpus, gpu_gib, numa = rng.choices(shapes, weights)[0]
        jobs.append(JobSpec(
            id=new_job_id(now_ms=1_700_000_000_000 + i, entropy=rng.randbytes(10)),
            tenant=f"tenant-{rng.randrange(WORKLOAD['tenants']):02}", argv=["/bin/true"],
            priority=rng.choice([50, 100, 100, 200]),
            resources=Resources(millicores=mc, memory_bytes=gib * GiB, gpus=gpus, gpu_memory_bytes=gpu_gib * GiB,
                                numa=NumaPolicy(numa))))
    return jobs


def run(nodes: list[NodeStatus], jobs: list[JobSpec], placer: Placer) -> tuple[list[float], int, float]:
    scheduler = Scheduler(placer=placer)
    for status in nodes:
        scheduler.node_status(status)
    for spec in jobs:
        scheduler.submit(spec, now=0)
    latencies, placed = [], 0
    started = time.perf_counter()
    for _ in range(len(jobs)):
        t0 = time.perf_counter()
        result = scheduler.cycle(now=1, max_decisions=1)
        latencies.append((time.perf_counter() - t0) * 1e6)
        placed += len(result.assignments)
        if not result.assignments and not result.preemptions:
            break  # nothing else fits
    return latencies, placed, time.perf_counter() - started


def hottest(nodes: list[NodeStatus], jobs: list[JobSpec]) -> list[str]:
    profiler = cProfile.Profile()
    profiler.runcall(run, nodes, jobs, Placer())
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(8)
    print(out.getvalue(), file=sys.stderr)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:5]
    total = sum(v[2] for v in stats.stats.values())
    return [f"{func[2]} ({func[0].rsplit('/', 1)[-1]}:{func[1]}) {100 * v[2] / total:.0f}%" for func, v in rows]


def measure(nodes: list[NodeStatus], jobs: list[JobSpec], repeats: int) -> dict:
    """Median decisions/s over ``repeats`` fresh runs; latency percentiles of the median run."""
    runs = sorted((run(nodes, jobs, Placer()) for _ in range(repeats)), key=lambda r: len(r[0]) / r[2])
    latencies, placed, elapsed = runs[len(runs) // 2]
    return {"placed": placed, "decisions_per_s": round(len(latencies) / elapsed),
            "runs_decisions_per_s": [round(len(r[0]) / r[2]) for r in runs],
            "decision_us": percentiles(latencies)}


def interpreted_figures(args: argparse.Namespace) -> dict:
    """The same measurement with the interpreted sources, in a child process (the same machine, same run)."""
    cmd = [sys.executable, "-m", "benchmarks.scheduler", "--nodes", str(args.nodes), "--jobs", str(args.jobs),
           "--seed", str(args.seed), "--repeats", str(args.repeats), "--baseline-jobs", "0"]
    cmd += ["--profile"] if args.profile else []
    child = subprocess.run(cmd, env={**os.environ, INTERPRETED_ENV: "1"}, capture_output=True, text=True,
                           check=True, timeout=600)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    return {k: figures[k] for k in ("implementation", "decisions_per_s", "decision_us", "hottest") if k in figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--baseline-jobs", type=int, default=500, help="0: skip the score-every-node baseline")
    parser.add_argument("--repeats", type=int, default=5, help="fresh runs; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    nodes, jobs = build_nodes(args.nodes, rng), build_jobs(args.jobs, rng)

    figures = {"nodes": args.nodes, "jobs": args.jobs,
               "implementation": "mypyc" if compiled.in_use() else "interpreted",
               **measure(nodes, jobs, args.repeats)}
    if args.baseline_jobs:
        base_lat, _, base_elapsed = run(nodes, jobs[: args.baseline_jobs], Placer(candidates=10**9))
        base = percentiles(base_lat)
        figures["baseline_score_all_nodes"] = {"jobs": len(base_lat),
                                               "decisions_per_s": round(len(base_lat) / base_elapsed),
                                               "decision_us": base}
        figures["speedup_p50"] = round(base["p50"] / figures["decision_us"]["p50"], 1)
    if compiled.in_use():
        figures["interpreted"] = interpreted_figures(args)
        figures["compiled_speedup"] = round(figures["decisions_per_s"] / figures["interpreted"]["decisions_per_s"], 2)
    if args.profile and not compiled.in_use():  # cProfile cannot see into compiled code: the child profiles
        figures["hottest"] = hottest(nodes, jobs)
    finish("scheduler", figures)


if __name__ == "__main__":
    main()
