"""How a sandboxed job ended, with what it used and what it printed."""
from __future__ import annotations

import enum

import msgspec


class Reason(enum.Enum):
    OK = "ok"
    NONZERO_EXIT = "nonzero_exit"
    OOM_KILLED = "oom_killed"
    TIMED_OUT = "timed_out"
    PIDS_EXHAUSTED = "pids_exhausted"
    GPU_MEMORY_EXCEEDED = "gpu_memory_exceeded"
    CANCELLED = "cancelled"
    OUTPUT_TRUNCATED = "output_truncated"
    SANDBOX_ERROR = "sandbox_error"


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    reason: Reason
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    wall_s: float
    cpu_user_s: float
    cpu_system_s: float
    peak_memory_bytes: int | None  # None where the cgroup backend cannot tell
    stdout: bytes
    stderr: bytes
    stdout_dropped: int = 0  # bytes beyond the cap, counted and discarded
    stderr_dropped: int = 0
    detail: str = ""  # a sentence for people: what limit was hit, what failed

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK
