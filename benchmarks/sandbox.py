"""Sandbox overhead: jobs/s and start-to-exit latency of /bin/true under each isolation.

    python -m benchmarks.sandbox [--jobs 200] [--rounds 3]

Variants, each run sequentially and with 2 in parallel, taking turns for
``--rounds`` rounds (jobs/s: the median round; latency: all rounds' samples):
- plain: a plain subprocess (no isolation; the ceiling)
- unshare_cgroup: bare `unshare --fork --pid --mount --net --uts --ipc`, joined to a
  fresh memory+pids cgroup before exec (race-free: a shell shim writes its own pid,
  then execs unshare) — the floor for real isolation without a view
- bwrap: bubblewrap with every namespace, a read-only / , /proc, /dev and /tmp (no cgroup)
- sluice: the Sluice sandbox with default limits (cgroups memory+pids+freezer,
  namespaces, read-only view, scratch tmpfs, unprivileged uid)
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks._report import finish, percentiles
from sandbox import Limits, Reason, Sandbox

V1 = Path("/sys/fs/cgroup")


def plain() -> None:
    subprocess.run(["/bin/true"], check=True)


def unshare_cgroup() -> None:
    name = f"sluice-bench-{uuid.uuid4().hex[:12]}"
    dirs = [V1 / "memory" / name, V1 / "pids" / name]
    for d in dirs:
        d.mkdir()
    (dirs[0] / "memory.limit_in_bytes").write_text(str(512 << 20))
    (dirs[1] / "pids.max").write_text("256")
    shim = " ".join(f"echo $$ > {d}/cgroup.procs;" for d in dirs)
    subprocess.run(["/bin/sh", "-c", f"{shim} exec unshare --fork --pid --mount --net --uts --ipc /bin/true"],
                   check=True)
    for d in dirs:
        d.rmdir()


def bwrap() -> None:
    subprocess.run(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                    "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true"], check=True)


def sluice_variant(box: Sandbox) -> Callable[[], None]:
    limits = Limits(timeout_s=30)

    def run() -> None:
        outcome = box.run(["/bin/true"], limits)
        if outcome.reason is not Reason.OK:
            raise RuntimeError(f"sandboxed /bin/true failed: {outcome}")
    return run


def measure(fn: Callable[[], None], jobs: int, parallel: int) -> tuple[float, list[float]]:
    """(jobs/s, start-to-exit latencies in ms) for ``jobs`` runs by ``parallel`` threads."""
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            fn()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    for _ in range(5):
        fn()  # warm-up
    threads = [threading.Thread(target=worker, args=(jobs // parallel,)) for _ in range(parallel)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per variant, mode and round")
    parser.add_argument("--rounds", type=int, default=3, help="variants take turns; medians are reported")
    args = parser.parse_args()
    box = Sandbox(instance="bench")
    variants = {"plain": plain, "unshare_cgroup": unshare_cgroup, "sluice": sluice_variant(box)}
    if shutil.which("bwrap"):
        variants["bwrap"] = bwrap
    else:
        print("bwrap not installed: skipping that variant (apt-get install bubblewrap)", file=sys.stderr)
    modes = {"parallel_1": 1, "parallel_2": 2}
    rates: dict[tuple[str, str], list[float]] = {(v, m): [] for v in variants for m in modes}
    latencies: dict[tuple[str, str], list[float]] = {(v, m): [] for v in variants for m in modes}
    for round_ in range(args.rounds):  # taking turns spreads this machine's slow spells over every variant
        for name, fn in variants.items():
            for mode, parallel in modes.items():
                rate, samples = measure(fn, args.jobs, parallel)
                rates[name, mode].append(rate)
                latencies[name, mode] += samples
            print(f"round {round_ + 1}: {name}", {m: round(rates[name, m][-1]) for m in modes}, file=sys.stderr)
    figures: dict = {
        name: {mode: {"jobs_per_s": round(statistics.median(rates[name, mode]), 1),
                      "latency_ms": percentiles(latencies[name, mode])} for mode in modes}
        for name in variants}
    floor, ours = figures["unshare_cgroup"], figures["sluice"]
    figures["sluice_vs_floor_jobs_per_s"] = {
        mode: round(ours[mode]["jobs_per_s"] / floor[mode]["jobs_per_s"], 2) for mode in modes}
    figures["sluice_vs_floor_per_round"] = {
        mode: [round(a / b, 2) for a, b in zip(rates["sluice", mode], rates["unshare_cgroup", mode])]
        for mode in modes}
    figures["sluice_p50_ms"] = ours["parallel_1"]["latency_ms"]["p50"]
    figures["floor_p50_ms"] = floor["parallel_1"]["latency_ms"]["p50"]
    figures["jobs"], figures["rounds"] = args.jobs, args.rounds
    box.close()
    finish("sandbox", figures)


if __name__ == "__main__":
    main()
