"""The `sluice` command as a user runs it: real processes, real broker, exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

SLUICE = [sys.executable, "-c", "from engine.cli import main; main()"]


def sluice(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SLUICE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_kafka_lifecycle_and_up_reusing_the_broker(tmp_path: Path, dds_domain: int):
    data = str(tmp_path / "kafka")
    assert sluice("kafka", "status", "--data-dir", data).returncode == 3

    started = sluice("kafka", "start", "--data-dir", data, "--port", "0", "--json")
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)
    try:
        assert info["bootstrap"].startswith("127.0.0.1:") and psutil.pid_exists(info["pid"])

        again = sluice("kafka", "start", "--data-dir", data, "--port", "0")
        assert again.returncode == 69
        assert again.stderr.strip().splitlines()[-1] == (
            f"sluice: error: a broker already runs for {data} (pid {info['pid']}, {info['bootstrap']})")

        status = sluice("kafka", "status", "--data-dir", data, "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["pid"] == info["pid"]

        up = sluice("up", "--once", "--json", "--data-dir", data, "--domain", str(dds_domain))
        assert up.returncode == 0, up.stderr
        report = json.loads(up.stdout)
        assert report["bootstrap"] == info["bootstrap"] and report["broker_reused"]
        assert report["kafka_round_trip"]["round_trips"] == 20
        assert report["dds_round_trip"]["round_trips"] == 50 and report["dds_round_trip"]["lost"] == 0
        assert report["coordinators"] == ["node-1", "node-2", "node-3"]
        assert report["leader"] == "node-1" and report["leader_epoch"] >= 1
        assert "topics ready" in up.stderr  # progress is shown
    finally:
        stopped = sluice("kafka", "stop", "--data-dir", data)
    assert stopped.returncode == 0, stopped.stderr
    assert not psutil.pid_exists(info["pid"])
    assert sluice("kafka", "status", "--data-dir", data).returncode == 3


def test_errors_are_one_line_without_traceback(tmp_path: Path):
    missing = sluice("kafka", "stop", "--data-dir", str(tmp_path))
    assert missing.returncode == 3
    assert missing.stderr == f"sluice: error: no broker is running for {tmp_path}\n"
    usage = sluice("kafka", "no-such-command")
    assert usage.returncode == 2 and "No such command" in usage.stderr and "Traceback" not in usage.stderr
    debug = sluice("--debug", "kafka", "stop", "--data-dir", str(tmp_path))
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_sandbox_run_passes_output_and_exit_codes():
    before = _job_cgroups("default")
    ran = sluice("sandbox", "run", "--memory", "64M", "--timeout", "20s", "--", "/bin/sh", "-c", "echo hi; exit 4")
    assert ran.returncode == 4 and ran.stdout == "hi\n"
    assert ran.stderr.startswith("sluice: nonzero_exit: exited with 4")
    timed = sluice("sandbox", "run", "--timeout", "300ms", "--json", "--", "sleep", "5")
    assert timed.returncode == 124
    outcome = json.loads(timed.stdout)
    assert outcome["reason"] == "timed_out" and outcome["signal"] == 9
    oom = sluice("sandbox", "run", "--memory", "32M", "--", "python3", "-c", "x = bytearray(200 << 20)")
    assert oom.returncode == 137 and "oom_killed" in oom.stderr
    bad = sluice("sandbox", "run", "--memory", "lots", "--", "true")
    assert bad.returncode == 65 and bad.stderr == "sluice: error: 'lots' is not a size; use e.g. 64M, 512MiB or 2G\n"
    assert _job_cgroups("default") <= before, "a one-shot run left its job cgroup behind"


def _job_cgroups(instance: str) -> set[str]:
    """A Sandbox would reap leftovers on start: read the instance's job cgroups through its backend only."""
    from sandbox.cgroups.detect import detect_backend
    from tests.sandbox_fixtures import job_cgroups

    return set(job_cgroups(detect_backend(f"sluice/{instance}")))
