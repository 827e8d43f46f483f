"""Shared sandbox fixtures: a Sandbox instance per test module, leak checks, host prechecks."""
from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from sandbox import Limits, Reason, Sandbox
from sandbox.cgroups import CgroupBackend


def job_cgroups(backend: CgroupBackend) -> list[str]:
    """Job cgroups present under a backend's instance parent, read from the filesystem (no reaping)."""
    if backend.version == 1:
        return [f"{controller}:{p.name}" for controller, mount in backend.mounts.items()
                for p in (mount / backend.parent).iterdir() if p.is_dir()]
    return [p.name for p in backend.parent.iterdir() if p.is_dir()]


def leftovers(sandbox: Sandbox) -> list[str]:
    """Job cgroups or scratch directories still present for this sandbox instance, once teardown settled."""
    sandbox.settle()
    return job_cgroups(sandbox.backend) + [p.name for p in sandbox.run_dir.iterdir()]


def instance_cgroups(sandbox: Sandbox) -> list[str]:
    """The instance's own parent cgroup directories that exist (none once it is closed)."""
    backend = sandbox.backend
    if backend.version == 1:
        return [str(m / backend.parent) for m in backend.mounts.values() if (m / backend.parent).exists()]
    return [str(backend.parent)] if backend.parent.exists() else []


def processes_with(marker: str) -> list[int]:
    me = os.getpid()
    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.pid != me and marker in " ".join(proc.info["cmdline"] or []):
            pids.append(proc.pid)
    return pids


def require_pid_namespace(sandbox: Sandbox) -> None:
    """Cheap proof the job gets its own pid namespace: it must see itself as pid 2 (init is 1)."""
    outcome = sandbox.run(["/bin/sh", "-c", "echo $$"], Limits(timeout_s=20))
    if outcome.stdout.strip() != b"2":
        pytest.fail(f"no pid namespace (job saw pid {outcome.stdout!r}); refusing to run a hostile test")


def require_cgroup_limit(sandbox: Sandbox, limits: Limits, controller: str, filename: str, expected: str) -> None:
    """Cheap proof a limit is in place: start a harmless job and read its cgroup file."""
    job = sandbox.start(["/bin/sleep", "30"], limits)
    try:
        if sandbox.backend.version == 1:
            path = Path(job.cgroup.dirs[controller]) / filename
        else:
            path = job.cgroup.path / filename
        value = path.read_text().strip()
        if value != expected:
            pytest.fail(f"{path} is {value!r}, not {expected!r}; refusing to run a hostile test")
    finally:
        job.cancel()
        assert job.wait(30).reason is Reason.CANCELLED
        job.closed.wait(30)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    box = Sandbox(instance=f"test-{os.getpid()}")
    yield box
    assert leftovers(box) == []
    box.close()
    assert instance_cgroups(box) == [] and not box.run_dir.exists()


@pytest.fixture(autouse=True)
def nothing_left_behind(request):
    yield
    if "sandbox" in request.fixturenames:
        box = request.getfixturevalue("sandbox")
        assert leftovers(box) == [], "a job left a cgroup or scratch directory behind"
