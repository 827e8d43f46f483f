"""Isolation and accounting for one job, usable on its own.

    from sandbox import Limits, run
    outcome = run(["python3", "-c", "print(42)"], Limits(memory_bytes=64 << 20, timeout_s=2))

Each job gets new pid, mount, uts, ipc and net namespaces, a read-only view of
the host's system directories with a private writable /scratch and /tmp, an
unprivileged uid with no_new_privs, rlimits, and its own cgroup (v1 or v2,
detected) for memory (no swap), pids, CPU quota and NUMA pinning.
"""
from __future__ import annotations

import threading

from sandbox.errors import CgroupError, SandboxError, SandboxUnavailable
from sandbox.limits import Limits
from sandbox.outcome import Outcome, Reason
from sandbox.runner import Sandbox, SandboxedJob

_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The process-wide Sandbox (instance "default"), created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox()
        return _default


def run(argv: list[str], limits: Limits | None = None) -> Outcome:
    """Run ``argv`` isolated under ``limits`` and wait for its Outcome."""
    return default_sandbox().run(argv, limits)


__all__ = ["CgroupError", "Limits", "Outcome", "Reason", "Sandbox", "SandboxError", "SandboxUnavailable",
           "SandboxedJob", "default_sandbox", "run"]
