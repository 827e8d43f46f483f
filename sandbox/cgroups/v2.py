"""cgroup v2: one directory per job in the unified hierarchy.

Limits are written for the controllers the hierarchy delegates; ``cgroup.kill``
(Linux 5.14+) stops every process at once, else freeze + SIGKILL + thaw.
"""
from __future__ import annotations

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

REQUIRED = ("memory", "pids")
_CPU_PERIOD_US = 100_000


class V2JobCgroup:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def procs_files(self) -> list[str]:
        return [str(self.path / "cgroup.procs")]

    def pids(self) -> list[int]:
        return read_pids(self.path / "cgroup.procs")

    def kill(self) -> None:
        procs = self.path / "cgroup.procs"
        if not read_pids(procs):
            return
        if (self.path / "cgroup.kill").exists():
            write(self.path / "cgroup.kill", "1")
        else:
            write(self.path / "cgroup.freeze", "1")
            try:
                signal_all(procs)
            finally:
                write(self.path / "cgroup.freeze", "0")
        kill_all(procs)

    def usage(self) -> CgroupUsage:
        def optional(name: str) -> str:
            path = self.path / name
            return read(path) if path.exists() else ""

        peak = optional("memory.peak").strip()
        return CgroupUsage(
            peak_memory_bytes=int(peak) if peak else None,
            oom_kills=flat_keyed(optional("memory.events"), "oom_kill"),
            pids_limit_hits=flat_keyed(optional("pids.events"), "max"),
        )

    def destroy(self) -> None:
        if not remove_if_empty(self.path):  # the usual case is empty: one rmdir, no reads
            self.kill()
            remove_dir(self.path)


class V2Backend:
    version = 2

    def __init__(self, root: Path, parent: str, required: tuple[str, ...] = REQUIRED) -> None:
        self.root = root
        self.parent = root / parent
        self.controllers = set(read(root / "cgroup.controllers").split())
        missing = [c for c in required if c not in self.controllers]
        if missing:
            raise SandboxUnavailable(
                f"cgroup v2 at {root} does not offer the {', '.join(missing)} controller(s)")
        self._ensure_parent(parent)

    def _ensure_parent(self, parent: str) -> None:
        """Create the parent chain and delegate our controllers down it."""
        enable = " ".join(f"+{c}" for c in ("memory", "pids", "cpu", "cpuset") if c in self.controllers)
        path = self.root
        for part in Path(parent).parts:
            if enable:
                write(path / "cgroup.subtree_control", enable)
            path = path / part
            path.mkdir(exist_ok=True)

    def create(self, name: str, limits: Limits) -> V2JobCgroup:
        path = self.parent / name
        job = V2JobCgroup(name, path)
        try:
            path.mkdir()
            self._configure(path, limits)
        except (OSError, CgroupError) as err:
            job.destroy()
            raise CgroupError(f"setting up cgroup {name}: {err}") from err
        return job

    def _configure(self, path: Path, limits: Limits) -> None:
        if "memory" in self.controllers:
            write(path / "memory.max", str(limits.memory_bytes))
            write(path / "memory.swap.max", "0")
        if "pids" in self.controllers:
            write(path / "pids.max", str(limits.pids))
        if limits.millicores is not None:
            if "cpu" not in self.controllers:
                raise SandboxUnavailable("a CPU quota needs the cpu controller")
            write(path / "cpu.max", f"{limits.millicores * _CPU_PERIOD_US // 1000} {_CPU_PERIOD_US}")
        if limits.cpus or limits.mems:
            if "cpuset" not in self.controllers:
                raise SandboxUnavailable("CPU pinning needs the cpuset controller")
            if limits.cpus:
                write(path / "cpuset.cpus", cpu_list(limits.cpus))
            if limits.mems:
                write(path / "cpuset.mems", cpu_list(limits.mems))

    def close(self) -> None:
        remove_dir(self.parent)

    def reap(self) -> list[str]:
        names = sorted(p.name for p in self.parent.iterdir() if p.is_dir())
        for name in names:
            V2JobCgroup(name, self.parent / name).destroy()
        return names

