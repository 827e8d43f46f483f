"""Pending jobs in scheduling order: aging first, then priority, then weighted fair share.

- Aging: a job that has waited longer than ``starvation_timeout_s`` goes before
  everything else, oldest first, so nothing starves behind higher priorities.
- Priority: higher ``JobSpec.priority`` first.
- Fair share: among tenants at the same priority, the one with the lowest
  ``(decayed consumed resource-seconds + running allocation * horizon) / weight``
  goes next; the allocation term moves as jobs are dispatched within one cycle.
- Within a tenant and priority: submission order.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from engine.model import JobSpec
from engine.scheduler.policy import SchedulingPolicy


@dataclass(slots=True)
class PendingJob:
    spec: JobSpec
    attempt: int
    enqueued_at: float
    seq: int = 0
    why: str = ""  # the latest reason it still waits, for `sluice jobs show`
    token: int = 0  # which push is current: heap entries of older pushes are stale

    @property
    def key(self) -> str:
        return f"{self.spec.id}/{self.attempt}"


@dataclass(slots=True)
class TenantUsage:
    consumed: float = 0.0  # decayed resource-seconds
    allocated: float = 0.0  # resource units per second now running


@dataclass
class _TenantQueue:
    heap: list[tuple[int, int, int, PendingJob]] = field(default_factory=list)
    size: int = 0


class FairQueues:
    def __init__(self, policy: SchedulingPolicy, now: float = 0.0) -> None:
        self.policy = policy
        self._tenants: dict[str, _TenantQueue] = {}
        self._by_age: list[tuple[int, int, PendingJob]] = []  # every queued job by arrival (lazy deletion)
        self._tokens = 0
        self._jobs: dict[str, PendingJob] = {}
        self.usage: dict[str, TenantUsage] = {}
        self._seq = 0
        self._clock = now

    def __len__(self) -> int:
        return len(self._jobs)

    def queued(self, tenant: str) -> int:
        queue = self._tenants.get(tenant)
        return queue.size if queue else 0

    def push(self, job: PendingJob) -> None:
        if job.key in self._jobs:
            raise ValueError(f"{job.key} is already queued")
        if job.seq == 0:
            self._seq += 1
            job.seq = self._seq
        self._tokens += 1
        job.token = self._tokens
        queue = self._tenants.setdefault(job.spec.tenant, _TenantQueue())
        heapq.heappush(queue.heap, (-job.spec.priority, job.seq, job.token, job))
        queue.size += 1
        self._jobs[job.key] = job
        heapq.heappush(self._by_age, (job.seq, job.token, job))  # a re-pushed job keeps its place by age

    def remove(self, key: str) -> PendingJob | None:
        job = self._jobs.pop(key, None)
        if job is not None:
            job.token = 0
            self._tenants[job.spec.tenant].size -= 1
        return job

    def pop_next(self, now: float) -> PendingJob | None:
        """The job to consider next, taken out of the queues."""
        job = self._oldest_if_starving(now) or self._best_head()
        if job is not None:
            self.remove(job.key)
        return job

    def _oldest_if_starving(self, now: float) -> PendingJob | None:
        by_age = self._by_age
        while by_age and by_age[0][1] != by_age[0][2].token:
            heapq.heappop(by_age)
        if by_age and now - by_age[0][2].enqueued_at > self.policy.starvation_timeout_s:
            return by_age[0][2]
        return None

    def _best_head(self) -> PendingJob | None:
        best: tuple | None = None
        for tenant, queue in self._tenants.items():
            heap = queue.heap
            while heap and heap[0][2] != heap[0][3].token:
                heapq.heappop(heap)
            if not heap:
                continue
            neg_priority, seq, _, job = heap[0]
            key = (neg_priority, self.fair_key(tenant), seq)
            if best is None or key < best[0]:
                best = (key, job)
        return best[1] if best else None

    # --- fair share accounting -------------------------------------------------------------
    def fair_key(self, tenant: str) -> float:
        usage = self.usage.get(tenant)
        if usage is None:
            return 0.0
        weight = self.policy.tenant(tenant).weight
        return (usage.consumed + usage.allocated * self.policy.fair_share_horizon_s) / weight

    def advance(self, now: float) -> None:
        """Charge running allocations for the time since the last call, with decay."""
        dt = now - self._clock
        if dt <= 0:
            return
        decay = math.exp(-dt * math.log(2) / self.policy.usage_half_life_s)
        for usage in self.usage.values():
            usage.consumed = usage.consumed * decay + usage.allocated * dt
        self._clock = now

    def charge(self, tenant: str, rate: float) -> None:
        """A job of ``tenant`` started using ``rate`` units/s (negative: it stopped)."""
        usage = self.usage.setdefault(tenant, TenantUsage())
        usage.allocated = max(0.0, usage.allocated + rate)
