"""Sandbox overhead: jobs/s and start-to-exit latency of /bin/true under each isolation.

    python -m benchmarks.sandbox [--jobs 200]

Variants, each run sequentially and with 2 in parallel, in one run:
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


def measure(fn: Callable[[], None], jobs: int, parallel: int) -> dict:
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
    wall = time.perf_counter() - started
    return {"jobs_per_s": round(len(latencies) / wall, 1), "latency_ms": percentiles(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    box = Sandbox(instance="bench")
    variants = {"plain": plain, "unshare_cgroup": unshare_cgroup, "sluice": sluice_variant(box)}
    if shutil.which("bwrap"):
        variants["bwrap"] = bwrap
    else:
        print("bwrap not installed: skipping that variant (apt-get install bubblewrap)", file=sys.stderr)
    figures: dict = {}
    for name, fn in variants.items():
        figures[name] = {f"parallel_{p}": measure(fn, args.jobs, p) for p in (1, 2)}
        print(name, figures[name], file=sys.stderr)
    floor = figures["unshare_cgroup"]
    ours = figures["sluice"]
    figures["sluice_vs_floor_jobs_per_s"] = {
        p: round(ours[p]["jobs_per_s"] / floor[p]["jobs_per_s"], 2) for p in ("parallel_1", "parallel_2")}
    figures["sluice_p50_ms"] = ours["parallel_1"]["latency_ms"]["p50"]
    figures["jobs"] = args.jobs
    finish("sandbox", figures)


if __name__ == "__main__":
    main()
