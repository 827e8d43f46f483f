"""Hostile jobs in the real sandbox: each contained, the host unharmed, nothing left behind."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import psutil
import pytest

from sandbox import Limits, Reason
from sandbox.limits import default_view
from tests.sandbox_fixtures import (  # noqa: F401 - fixtures
    nothing_left_behind,
    processes_with,
    require_cgroup_limit,
    require_pid_namespace,
    sandbox,
)

REPO = Path(__file__).resolve().parents[1]


def test_fork_bomb_is_stopped_by_the_pids_limit(sandbox):
    limits = Limits(pids=32, timeout_s=3)
    require_cgroup_limit(sandbox, limits, "pids", "pids.max", "32")
    before = len(psutil.pids())
    outcome = sandbox.run(["/bin/sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 10"], limits)
    assert outcome.reason in (Reason.PIDS_EXHAUSTED, Reason.TIMED_OUT)
    assert len(psutil.pids()) < before + 16  # the host's process table is back to normal


def test_memory_bomb_is_oom_killed(sandbox):
    limits = Limits(memory_bytes=64 << 20, timeout_s=20)
    require_cgroup_limit(sandbox, limits, "memory", "memory.limit_in_bytes"
                         if sandbox.backend.version == 1 else "memory.max", str(64 << 20))
    outcome = sandbox.run(["python3", "-c", "x = bytearray(300 << 20); print('allocated')"], limits)
    assert outcome.reason is Reason.OOM_KILLED, outcome
    assert b"allocated" not in outcome.stdout
    assert outcome.peak_memory_bytes is None or outcome.peak_memory_bytes <= 64 << 20


def test_cpu_spin_past_the_timeout_is_killed(sandbox):
    outcome = sandbox.run(["python3", "-c", "while True: pass"], Limits(timeout_s=1, millicores=500))
    assert outcome.reason is Reason.TIMED_OUT
    assert 1 <= outcome.wall_s < 10


def test_double_forked_setsid_daemon_still_dies(sandbox):
    marker = f"sluice-daemon-{uuid.uuid4().hex}"
    script = (f"(setsid bash -c 'exec -a {marker} sleep 300' &) ; "
              f"for i in $(seq 50); do pgrep -f {marker} >/dev/null && break; sleep 0.05; done; "
              f"pgrep -f {marker} >/dev/null && echo daemon-running")
    outcome = sandbox.run(["/bin/bash", "-c", script], Limits(timeout_s=20))
    assert outcome.reason is Reason.OK and outcome.stdout == b"daemon-running\n"  # it did start, detached
    assert processes_with(marker) == []  # and it died with the job


def test_cannot_write_outside_scratch(sandbox):
    targets = ["/sluice-x", "/etc/sluice-x", f"{REPO}/sluice-x", "/usr/sluice-x"]
    script = "; ".join(f"touch {t} 2>/dev/null && echo WROTE {t}" for t in targets) + "; echo ok > /scratch/f && cat /scratch/f"
    outcome = sandbox.run(["/bin/sh", "-c", script], Limits(timeout_s=20))
    assert b"WROTE" not in outcome.stdout and outcome.stdout.endswith(b"ok\n")
    assert not any(Path(t).exists() for t in targets)


def test_cannot_read_host_files_outside_the_view(sandbox, tmp_path):
    secret = Path("/root") / f"sluice-secret-{uuid.uuid4().hex}"
    secret.write_text("host secret")
    secret.chmod(0o644)
    try:
        outcome = sandbox.run(["/bin/sh", "-c", f"cat {secret}; ls {REPO}; cat /etc/shadow"], Limits(timeout_s=20))
    finally:
        secret.unlink()
    assert b"host secret" not in outcome.stdout
    assert b"No such file" in outcome.stderr and b"Permission denied" in outcome.stderr


@pytest.mark.parametrize("network", ["none", "loopback"])
def test_cannot_reach_a_server_on_the_hosts_loopback(sandbox, network):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(3)
    accepted = []
    thread = threading.Thread(target=lambda: _accept(server, accepted), daemon=True)
    thread.start()
    port = server.getsockname()[1]
    code = f"import socket; s=socket.socket(); s.settimeout(2); s.connect(('127.0.0.1', {port})); print('CONNECTED')"
    outcome = sandbox.run(["python3", "-c", code], Limits(timeout_s=20, network=network))
    thread.join(5)
    server.close()
    assert b"CONNECTED" not in outcome.stdout and outcome.reason is Reason.NONZERO_EXIT
    assert accepted == []
    expected = b"Network is unreachable" if network == "none" else b"Connection refused"
    assert expected in outcome.stderr


def _accept(server: socket.socket, accepted: list) -> None:
    try:
        accepted.append(server.accept())
    except OSError:
        pass


def test_kill_minus_one_and_host_pids_are_out_of_reach(sandbox):
    require_pid_namespace(sandbox)
    victim = subprocess.Popen(["sleep", "60"])
    try:
        script = f"kill -9 {victim.pid} 2>&1; kill -9 -1; echo survived"
        outcome = sandbox.run(["/bin/sh", "-c", script], Limits(timeout_s=20))
        assert victim.poll() is None  # the host process lives on
        assert psutil.pid_exists(os.getpid())
        assert outcome.signal == 9 or b"survived" in outcome.stdout  # kill -1 hit only the job itself
    finally:
        victim.kill()


def test_cannot_join_a_parent_cgroup(sandbox):
    script = ("for f in /sys/fs/cgroup/memory/cgroup.procs /sys/fs/cgroup/cgroup.procs; do "
              "echo $$ > $f 2>/dev/null && echo JOINED; done; cat /proc/self/cgroup")
    job = sandbox.start(["/bin/sh", "-c", script], Limits(timeout_s=20))
    outcome = job.wait(30)
    assert b"JOINED" not in outcome.stdout and outcome.reason is Reason.OK


def test_huge_output_is_capped(sandbox):
    outcome = sandbox.run(["/bin/sh", "-c", "head -c 20000000 /dev/zero"], Limits(timeout_s=30, output_bytes=1 << 20))
    assert outcome.reason is Reason.OUTPUT_TRUNCATED
    assert len(outcome.stdout) == 1 << 20 and outcome.stdout_dropped == 20_000_000 - (1 << 20)


def test_mount_and_ptrace_are_refused(sandbox):
    script = ("mount -t tmpfs none /tmp 2>&1 && echo MOUNTED; "
              "python3 -c \"import ctypes; r = ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0); "
              "print('PTRACE', r, ctypes.get_errno())\"")
    outcome = sandbox.run(["/bin/sh", "-c", script], Limits(timeout_s=20))
    assert b"MOUNTED" not in outcome.stdout
    assert b"PTRACE -1 1" in outcome.stdout  # EPERM


def test_setuid_binary_does_not_grant_root(sandbox, tmp_path):
    tool_dir = Path("/opt") / f"sluice-suid-{uuid.uuid4().hex[:8]}"
    tool_dir.mkdir()
    try:
        shutil.copy("/usr/bin/id", tool_dir / "id")
        os.chmod(tool_dir / "id", 0o4755)  # setuid root on the host
        outcome = sandbox.run([str(tool_dir / "id")], Limits(timeout_s=20, view=(*default_view(), str(tool_dir))))
    finally:
        shutil.rmtree(tool_dir)
    assert outcome.reason is Reason.OK
    assert b"euid=0" not in outcome.stdout and outcome.stdout.startswith(b"uid=65534")
