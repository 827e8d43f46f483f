"""cgroup v1: one directory per job in each hierarchy it needs.

Always memory (with memsw: no swap escape), pids and freezer (to stop everything
at once); cpu when a quota is set; cpuset when pinned; devices when GPUs are given.
"""
from __future__ import annotations

import os
from pathlib import Path

from sandbox.cgroups.base import (
    CgroupUsage,
    cpu_list,
    flat_keyed,
    kill_all,
    read,
    read_pids,
    remove_dir,
    remove_if_empty,
    signal_all,
    write,
)
from sandbox.errors import CgroupError, SandboxUnavailable
from sandbox.limits import Limits

REQUIRED = ("memory", "pids", "freezer")
USED = (*REQUIRED, "cpu", "cpuset", "devices")
_CPU_PERIOD_US = 100_000
_STANDARD_DEVICES = ("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm")  # null zero full random urandom


class V1JobCgroup:
    """One job's directories, one per hierarchy; paths are plain strings (made on every job start)."""

    def __init__(self, name: str, dirs: dict[str, str]) -> None:
        self.name = name
        self.dirs = dirs  # controller -> this job's directory in that controller's hierarchy

    def procs_files(self) -> list[str]:
        return sorted({f"{d}/cgroup.procs" for d in self.dirs.values()})

    def pids(self) -> list[int]:
        return read_pids(f"{self.dirs['pids']}/cgroup.procs")

    def kill(self) -> None:
        freezer = self.dirs["freezer"]
        procs = f"{freezer}/cgroup.procs"
        if not read_pids(procs):
            return
        write(f"{freezer}/freezer.state", "FROZEN")  # nothing can fork while we signal every pid
        try:
            signal_all(procs)
        finally:
            write(f"{freezer}/freezer.state", "THAWED")  # the SIGKILLs land on thaw
        kill_all(procs)  # wait until the cgroup is empty

    def usage(self) -> CgroupUsage:
        memory = self.dirs["memory"]
        return CgroupUsage(
            peak_memory_bytes=int(read(f"{memory}/memory.max_usage_in_bytes")),
            oom_kills=flat_keyed(read(f"{memory}/memory.oom_control"), "oom_kill"),
            pids_limit_hits=flat_keyed(read(f"{self.dirs['pids']}/pids.events"), "max"),
        )

    def destroy(self) -> None:
        if not remove_if_empty(self.dirs["freezer"]):  # the usual case is empty: one rmdir, no reads
            self.kill()
        for path in set(self.dirs.values()):
            remove_dir(path)


class V1Backend:
    version = 1

    def __init__(self, mounts: dict[str, Path], parent: str) -> None:
        missing = [c for c in REQUIRED if c not in mounts]
        if missing:
            raise SandboxUnavailable(f"cgroup v1 is missing the {', '.join(missing)} hierarchies")
        self.mounts = {c: p for c, p in mounts.items() if c in USED}
        self.parent = parent
        for controller in self.mounts:
            self._ensure_parent(controller)
        self._bases = {c: str(m / parent) for c, m in self.mounts.items()}  # each hierarchy's instance dir
        # Swap accounting is a boot option (swapaccount=1): when on, RAM + swap is capped too.
        self._memsw = (self.mounts["memory"] / "memory.memsw.limit_in_bytes").exists()

    def _ensure_parent(self, controller: str) -> None:
        path = self.mounts[controller]
        for part in Path(self.parent).parts:
            child = path / part
            if not child.exists():
                child.mkdir()
                if controller == "cpuset":  # a new cpuset starts empty; inherit its parent's
                    for name in ("cpuset.cpus", "cpuset.mems"):
                        write(child / name, read(path / name).strip() or "\n")
            path = child

    def create(self, name: str, limits: Limits) -> V1JobCgroup:
        wanted = list(REQUIRED)
        if limits.millicores is not None:
            wanted.append("cpu")
        if limits.cpus or limits.mems:
            wanted.append("cpuset")
        if limits.gpu_uuids:
            wanted.append("devices")
        unavailable = [c for c in wanted if c not in self.mounts]
        if unavailable:
            raise SandboxUnavailable(f"cgroup v1 lacks {', '.join(unavailable)} needed for these limits")
        dirs: dict[str, str] = {}
        job = V1JobCgroup(name, dirs)
        try:
            for controller in wanted:
                path = f"{self._bases[controller]}/{name}"
                if path not in dirs.values():  # co-mounted controllers (cpu,cpuacct) share a directory
                    os.mkdir(path)
                dirs[controller] = path
            self._configure(dirs, limits)
        except (OSError, CgroupError) as err:
            job.destroy()
            raise CgroupError(f"setting up cgroup {name}: {err}") from err
        return job

    def _configure(self, dirs: dict[str, str], limits: Limits) -> None:
        memory = dirs["memory"]
        write(f"{memory}/memory.limit_in_bytes", str(limits.memory_bytes))
        if self._memsw:
            write(f"{memory}/memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        write(f"{dirs['pids']}/pids.max", str(limits.pids))
        if "cpu" in dirs:
            write(f"{dirs['cpu']}/cpu.cfs_period_us", str(_CPU_PERIOD_US))
            write(f"{dirs['cpu']}/cpu.cfs_quota_us", str(limits.millicores * _CPU_PERIOD_US // 1000))
        if "cpuset" in dirs:
            cpuset, parent = dirs["cpuset"], self._bases["cpuset"]
            write(f"{cpuset}/cpuset.cpus", cpu_list(limits.cpus) or read(f"{parent}/cpuset.cpus").strip())
            write(f"{cpuset}/cpuset.mems", cpu_list(limits.mems) or read(f"{parent}/cpuset.mems").strip())
        if "devices" in dirs:
            devices = dirs["devices"]
            write(f"{devices}/devices.deny", "a")
            for rule in _STANDARD_DEVICES:
                write(f"{devices}/devices.allow", rule)
            write(f"{devices}/devices.allow", "c 195:* rwm")  # NVIDIA devices; the view shows only the job's

    def close(self) -> None:
        for mount in self.mounts.values():
            remove_dir(mount / self.parent)

    def reap(self) -> list[str]:
        names: set[str] = set()
        for controller in REQUIRED:
            base = self.mounts[controller] / self.parent
            names.update(p.name for p in base.iterdir() if p.is_dir())
        for name in sorted(names):
            dirs = {c: f"{base}/{name}" for c, base in self._bases.items() if os.path.isdir(f"{base}/{name}")}
            dirs.setdefault("freezer", f"{self._bases['freezer']}/{name}")
            V1JobCgroup(name, dirs).destroy()
        return sorted(names)
