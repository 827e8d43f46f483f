"""Find the cgroup hierarchy this host offers, from /proc/self/mountinfo."""
from __future__ import annotations

from pathlib import Path

from sandbox.cgroups.base import CgroupBackend
from sandbox.cgroups.v1 import V1Backend
from sandbox.cgroups.v2 import V2Backend
from sandbox.errors import SandboxUnavailable

MOUNTINFO = Path("/proc/self/mountinfo")


def cgroup_mounts(mountinfo: str) -> tuple[list[Path], dict[str, Path]]:
    """(cgroup2 mount points, v1 controller -> mount point)."""
    v2: list[Path] = []
    v1: dict[str, Path] = {}
    for line in mountinfo.splitlines():
        pre, _, post = line.partition(" - ")
        fields, post_fields = pre.split(), post.split()
        if len(fields) < 5 or len(post_fields) < 3:
            continue
        mount_point, fstype, options = Path(fields[4]), post_fields[0], post_fields[2].split(",")
        if fstype == "cgroup2":
            v2.append(mount_point)
        elif fstype == "cgroup":
            for option in options:
                if option in {"memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio"}:
                    v1.setdefault(option, mount_point)
    return v2, v1


def detect_backend(parent: str, mountinfo: str | None = None) -> CgroupBackend:
    """v2 when a unified hierarchy offers memory and pids, else v1, else a clear refusal."""
    v2_mounts, v1_mounts = cgroup_mounts(mountinfo if mountinfo is not None else MOUNTINFO.read_text())
    problems = []
    for root in v2_mounts:
        try:
            return V2Backend(root, parent)
        except SandboxUnavailable as err:
            problems.append(str(err))
    try:
        return V1Backend(v1_mounts, parent)
    except SandboxUnavailable as err:
        problems.append(str(err))
    raise SandboxUnavailable(
        "no usable cgroup hierarchy, so no job can be isolated: " + "; ".join(problems)
        + ". Needed: cgroup v2 with memory and pids controllers, or cgroup v1 memory, pids and freezer hierarchies."
    )
