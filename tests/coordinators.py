"""Start coordinators as real processes and read their structured logs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SLUICE = [sys.executable, "-c", "from engine.cli import main; main()"]


class CoordinatorProcess:
    def __init__(self, node: str, bootstrap: str, domain: int, prefix: str, log_dir: Path,
                 lease: float = 0.2, extra: tuple[str, ...] = ()) -> None:
        self.node = node
        self.log_path = log_dir / f"{node}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*SLUICE, "coordinator", "--node-id", node, "--bootstrap", bootstrap, "--domain", str(domain),
             "--prefix", prefix, "--lease", str(lease), *extra],
            stdout=self._log, stderr=subprocess.STDOUT)

    def events(self, kind: str | None = None) -> list[dict]:
        out = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if "event" not in record:  # library logs (librdkafka) share the stream
                    continue
                if kind is None or record["event"] == kind:
                    out.append(record)
        return out

    def signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def wait_until(predicate, timeout_s: float = 30.0, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


def sluice_json(*args: str, timeout: float = 60) -> dict:
    done = subprocess.run([*SLUICE, *args, "--json"], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
