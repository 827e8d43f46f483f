"""The sandbox's behaviour: limits, outcomes, accounting, cgroup backends, reaper, GPU watchdog."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest

from sandbox import CgroupError, Limits, Reason, Sandbox, SandboxUnavailable
from sandbox.cgroups.detect import cgroup_mounts, detect_backend
from sandbox.cgroups.v2 import V2Backend
from tests.sandbox_fixtures import instance_cgroups, leftovers, nothing_left_behind, sandbox  # noqa: F401

UNIFIED = Path("/sys/fs/cgroup/unified")


def test_exit_code_output_and_accounting(sandbox):
    outcome = sandbox.run(["python3", "-c", "import sys; sum(range(3*10**6)); print('out'); "
                                            "print('err', file=sys.stderr); sys.exit(7)"])
    assert outcome.reason is Reason.NONZERO_EXIT and outcome.exit_code == 7 and outcome.signal is None
    assert outcome.stdout == b"out\n" and outcome.stderr == b"err\n"
    assert outcome.cpu_user_s > 0 and outcome.wall_s > 0 and outcome.peak_memory_bytes > 1 << 20


def test_identity_environment_and_working_files(sandbox):
    os.environ["SLUICE_TEST_PASS"] = "yes"
    os.environ["SLUICE_TEST_SECRET"] = "no"
    limits = Limits(env={"GREETING": "hi"}, env_passthrough=("SLUICE_TEST_PASS",),
                    files={"input/data.txt": "payload"})
    script = "id -u; hostname; pwd; cat input/data.txt; echo; env | sort"
    outcome = sandbox.run(["/bin/sh", "-c", script], limits)
    lines = outcome.stdout.decode().splitlines()
    assert lines[:4] == ["65534", "sandbox", "/scratch", "payload"]
    env = dict(line.split("=", 1) for line in lines[4:] if "=" in line)
    assert env["GREETING"] == "hi" and env["SLUICE_TEST_PASS"] == "yes" and "SLUICE_TEST_SECRET" not in env
    assert env["HOME"] == "/scratch"


@pytest.mark.parametrize("files", [{}, {"note.txt": "hi"}], ids=["fresh-tmpfs", "host-prepared"])
def test_scratch_is_private_writable_and_size_capped(sandbox, files):
    script = "stat -c '%u %a' /scratch; head -c 8000000 /dev/zero > /scratch/big"
    outcome = sandbox.run(["/bin/sh", "-c", script], Limits(scratch_bytes=4 << 20, files=files))
    assert outcome.stdout.split() == [b"65534", b"700"]
    assert outcome.reason is Reason.NONZERO_EXIT and b"No space left" in outcome.stderr


def test_job_starts_with_default_signal_dispositions(sandbox):
    """Python ignores SIGPIPE and SIGXFSZ; a job must not inherit that (``yes | head`` would misbehave)."""
    outcome = sandbox.run(["/bin/sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status"])
    assert outcome.stdout.split() == [b"SigBlk:", b"0000000000000000", b"SigIgn:", b"0000000000000000"]


def test_file_size_and_open_file_rlimits(sandbox):
    code = ("import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0], resource.getrlimit(resource.RLIMIT_CORE)[0])")
    outcome = sandbox.run(["python3", "-c", code], Limits(open_files=64, file_size_bytes=1 << 20))
    assert outcome.stdout.split() == [b"64", str(1 << 20).encode(), b"0"]


def test_cpu_quota_and_pinning_reach_the_cgroup(sandbox):
    job = sandbox.start(["/bin/sleep", "30"], Limits(millicores=250, cpus=(0,), mems=(0,)))
    try:
        if sandbox.backend.version == 1:
            assert Path(job.cgroup.dirs["cpu"], "cpu.cfs_quota_us").read_text().strip() == "25000"
            assert Path(job.cgroup.dirs["cpuset"], "cpuset.cpus").read_text().strip() == "0"
            assert Path(job.cgroup.dirs["memory"], "memory.memsw.limit_in_bytes").read_text().strip() == str(512 << 20)
    finally:
        job.cancel()
    assert job.wait(30).reason is Reason.CANCELLED


def test_cpu_quota_throttles_a_spinning_job(sandbox):
    outcome = sandbox.run(["python3", "-c", "import time\nt=time.time()\nwhile time.time()-t < 1.5: pass"],
                          Limits(millicores=200, timeout_s=30))
    assert outcome.reason is Reason.OK
    assert outcome.cpu_user_s + outcome.cpu_system_s < 0.6 * outcome.wall_s  # 20% of a core, with slack


def test_missing_program_is_reported(sandbox):
    outcome = sandbox.run(["/no/such/program"])
    assert outcome.exit_code == 127 and b"sluice-launcher: exec /no/such/program" in outcome.stderr


def test_impossible_limits_are_refused_at_start(sandbox):
    with pytest.raises(CgroupError, match="cpuset.cpus"):
        sandbox.start(["/bin/true"], Limits(cpus=(4096,)))  # no such CPU: the cgroup refuses, nothing starts


class VanishingCgroup:
    """A real job cgroup whose cgroup.procs path is gone by the time the launcher joins it."""

    def __init__(self, real):
        self.real, self.name = real, real.name

    def procs_files(self):
        return ["/sys/fs/cgroup/memory/sluice-no-such-cgroup/cgroup.procs"]

    def __getattr__(self, attr):
        return getattr(self.real, attr)


class VanishingCgroupBackend:
    def __init__(self, real):
        self.real, self.version = real, real.version

    def create(self, name, limits):
        return VanishingCgroup(self.real.create(name, limits))

    def __getattr__(self, attr):
        return getattr(self.real, attr)


def test_launcher_failure_is_a_sandbox_error(sandbox):
    instance = f"vanish-{os.getpid()}"
    box = Sandbox(instance=instance, backend=VanishingCgroupBackend(detect_backend(f"sluice/{instance}")))
    outcome = box.run(["/bin/true"])
    box.close()
    assert outcome.reason is Reason.SANDBOX_ERROR
    assert outcome.detail.startswith("sluice-launcher: join cgroup /sys/fs/cgroup/memory/sluice-no-such-cgroup")


def test_many_jobs_run_side_by_side(sandbox):
    started = time.monotonic()
    jobs = [sandbox.start(["/bin/sleep", "1"]) for _ in range(6)]
    outcomes = [job.wait(30) for job in jobs]
    assert all(o.reason is Reason.OK for o in outcomes)
    assert time.monotonic() - started < 4  # not 6 s: they ran at once


def test_cancel_stops_the_whole_job(sandbox):
    marker = f"sluice-cancel-{uuid.uuid4().hex}"
    job = sandbox.start(["/bin/bash", "-c", f"(exec -a {marker} sleep 300 &); exec -a {marker} sleep 300"])
    deadline = time.monotonic() + 10
    while len(job.pids()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    job.cancel()
    outcome = job.wait(30)
    assert outcome.reason is Reason.CANCELLED and outcome.signal == 9
    assert not [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


class FakeGpuReader:
    """A recorded NVML answer: every process on the host holds ``per_process`` bytes on each GPU."""

    def __init__(self, per_process: int) -> None:
        self.per_process = per_process
        self.queries = 0

    def used_bytes(self, gpu_uuid: str) -> dict[int, int]:
        self.queries += 1
        return dict.fromkeys(psutil.pids(), self.per_process)

    def device_index(self, gpu_uuid: str) -> int | None:
        return None


@pytest.mark.parametrize(("per_process", "expected"), [(8 << 30, Reason.GPU_MEMORY_EXCEEDED), (1 << 20, Reason.OK)])
def test_gpu_memory_watchdog(per_process, expected):
    reader = FakeGpuReader(per_process)
    box = Sandbox(instance=f"gpu-{os.getpid()}", gpu_reader=reader)
    limits = Limits(gpu_uuids=("GPU-fake-0",), gpu_memory_bytes=4 << 30, timeout_s=20)
    outcome = box.run(["/bin/sh", "-c", "echo $CUDA_VISIBLE_DEVICES; sleep 1"], limits)
    assert outcome.reason is expected and reader.queries >= 1
    assert outcome.stdout.startswith(b"GPU-fake-0") if expected is Reason.OK else "GPU-fake-0" in outcome.detail
    assert leftovers(box) == []
    box.close()


def test_reaper_cleans_up_after_a_killed_coordinator():
    instance = f"reap-{os.getpid()}"
    marker = f"sluice-orphan-{uuid.uuid4().hex}"
    script = textwrap.dedent(f"""
        from sandbox import Sandbox, Limits
        box = Sandbox(instance={instance!r})
        job = box.start(["/bin/bash", "-c", "exec -a {marker} sleep 300"])
        print(job.name, flush=True)
        import time; time.sleep(300)
    """)
    coordinator = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    name = coordinator.stdout.readline().strip()
    deadline = time.monotonic() + 10
    while not _with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _with_marker(marker)
    os.kill(coordinator.pid, signal.SIGKILL)
    coordinator.wait(10)
    box = Sandbox(instance=instance)  # the next start reaps
    assert box.reaped == [name]
    assert not _with_marker(marker) and leftovers(box) == []
    box.close()
    assert not box.run_dir.exists() and instance_cgroups(box) == []


def _with_marker(marker: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


@pytest.mark.skipif(not (UNIFIED / "cgroup.procs").exists(), reason="no cgroup2 mount at /sys/fs/cgroup/unified")
def test_v2_backend_for_real_on_the_unified_hierarchy():
    """These hosts' cgroup2 has no resource controllers, but membership, kill and removal are real."""
    backend = V2Backend(UNIFIED, f"sluice-v2-test/{os.getpid()}", required=())
    job = backend.create("job1", Limits())
    sleeper = subprocess.Popen(["/bin/sh", "-c", f"echo $$ > {job.procs_files()[0]}; exec sleep 300"])
    deadline = time.monotonic() + 5
    while sleeper.pid not in job.pids() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.pids() == [sleeper.pid]
    job.kill()
    assert sleeper.wait(10) == -signal.SIGKILL
    job.destroy()
    assert not job.path.exists()
    assert backend.reap() == []
    backend.close()
    backend.parent.parent.rmdir()


def test_v2_backend_writes_limits_on_a_directory_tree(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    backend = V2Backend(tmp_path, "sluice/node-1")
    job = backend.create("job1", Limits(memory_bytes=64 << 20, pids=32, millicores=1500, cpus=(2, 3), mems=(1,)))
    files = {name: (job.path / name).read_text() for name in
             ("memory.max", "memory.swap.max", "pids.max", "cpu.max", "cpuset.cpus", "cpuset.mems")}
    assert files == {"memory.max": str(64 << 20), "memory.swap.max": "0", "pids.max": "32",
                     "cpu.max": "150000 100000", "cpuset.cpus": "2,3", "cpuset.mems": "1"}
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids +cpu +cpuset"


def test_detection_prefers_v2_then_v1_then_refuses(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    v2_only = f"30 1 0:26 / {tmp_path} rw - cgroup2 cgroup2 rw\n"
    assert detect_backend("sluice/t", mountinfo=v2_only).version == 2
    none = "22 1 0:20 / /proc rw - proc proc rw\n"
    with pytest.raises(SandboxUnavailable, match="no usable cgroup hierarchy"):
        detect_backend("sluice/t", mountinfo=none)
    v1_line = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    assert cgroup_mounts(v1_line)[1] == {"memory": Path("/sys/fs/cgroup/memory")}
    with pytest.raises(SandboxUnavailable, match="missing the pids, freezer hierarchies"):
        detect_backend("sluice/t", mountinfo=v1_line)
