"""Errors of the scheduler policy: each says why, so the leader can record it on the job."""
from __future__ import annotations


class SchedulingError(Exception):
    """Base of the scheduler's errors."""


class Unschedulable(SchedulingError):
    """The job can never run under the current policy (unknown pool, over a pool's caps)."""


class QueueFull(SchedulingError):
    """The tenant already has ``limit`` jobs queued; retry after some complete."""

    def __init__(self, tenant: str, limit: int) -> None:
        super().__init__(f"tenant {tenant} has {limit} jobs queued, its max_queued quota")
        self.tenant = tenant
        self.limit = limit
