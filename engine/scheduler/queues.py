"""Pending jobs in scheduling order: aging first, then priority, then weighted fair share.

- Aging: a job that has waited longer than ``starvation_timeout_s`` is lifted
  above every priority, so nothing starves behind higher priorities. Aged jobs
  still compete by fair share between tenants (else deep queues would turn the
  whole system into FIFO once everything is old).
- Priority: higher ``JobSpec.priority`` first.
- Fair share: among tenants in the same band, the one with the lowest
  ``(decayed consumed resource-seconds + running allocation * horizon) / weight``
  goes next; the allocation term moves as jobs are dispatched within one cycle.
- Within a tenant and priority: submission order.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
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
    key: str = ""  # "job_id/attempt", derived

    def __post_init__(self) -> None:
        self.key = f"{self.spec.id}/{self.attempt}"


@dataclass(slots=True)
class TenantUsage:
    consumed: float = 0.0  # decayed resource-seconds
    allocated: float = 0.0  # resource units per second now running


@dataclass
class _TenantQueue:
    by_priority: list[tuple[int, int, int, PendingJob]] = field(default_factory=list)
    by_age: list[tuple[int, int, PendingJob]] = field(default_factory=list)
    size: int = 0
    # No queued job is older than this (a lower bound: it may belong to a job already taken).
    oldest_at: float = math.inf

    def add(self, job: PendingJob) -> None:
        heapq.heappush(self.by_priority, (-job.spec.priority, job.seq, job.token, job))
        heapq.heappush(self.by_age, (job.seq, job.token, job))  # a re-pushed job keeps its place by age
        self.size += 1
        if job.enqueued_at < self.oldest_at:
            self.oldest_at = job.enqueued_at
        if len(self.by_age) > 2 * self.size + 64:  # by_age is only read near starvation: drop stale entries now
            self.by_age = [entry for entry in self.by_age if entry[1] == entry[2].token]
            heapq.heapify(self.by_age)

    def head(self, now: float, starvation_timeout_s: float) -> tuple[int, PendingJob] | None:
        """(band, job): band 0 for the oldest job once it is starving, else 1 and the priority head.

        Heap entries end with (push token, job); an entry whose token is no longer the
        job's is stale (the job was taken or pushed again) and is dropped lazily.
        """
        if now - self.oldest_at > starvation_timeout_s:  # someone may be starving: find the oldest
            by_age = self.by_age
            while by_age and by_age[0][1] != by_age[0][2].token:
                heapq.heappop(by_age)
            self.oldest_at = by_age[0][2].enqueued_at if by_age else math.inf
            if now - self.oldest_at > starvation_timeout_s:
                return 0, by_age[0][2]
        by_priority = self.by_priority
        while by_priority and by_priority[0][2] != by_priority[0][3].token:
            heapq.heappop(by_priority)
        return (1, by_priority[0][3]) if by_priority else None


class FairQueues:
    def __init__(self, policy: SchedulingPolicy, now: float = 0.0) -> None:
        self.policy = policy
        self._tenants: dict[str, _TenantQueue] = {}
        self._tokens = 0
        self._jobs: dict[str, PendingJob] = {}
        self.usage: dict[str, TenantUsage] = {}
        self._seq = 0
        self._clock = now
        # Each tenant's head job in a heap by (band, -priority, fair key, seq, version, tenant, job); an
        # entry is current while its version is the tenant's. A tenant whose queue or usage changed is
        # "dirty" and re-entered at the next pop.
        self._heads: list[tuple] = []
        self._versions: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._heads_now: float | None = None  # the `now` the heads were computed for (aging)

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[PendingJob]:
        """The queued attempts, in no particular order."""
        return iter(self._jobs.values())

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
        queue = self._tenants.get(job.spec.tenant)
        if queue is None:
            queue = self._tenants[job.spec.tenant] = _TenantQueue()
        queue.add(job)
        self._jobs[job.key] = job
        self._dirty.add(job.spec.tenant)

    def remove(self, key: str) -> PendingJob | None:
        job = self._jobs.pop(key, None)
        if job is not None:
            job.token = 0
            self._tenants[job.spec.tenant].size -= 1
            self._dirty.add(job.spec.tenant)
        return job

    def pop_next(self, now: float) -> PendingJob | None:
        """The job to consider next, taken out of the queues."""
        if now != self._heads_now:  # aging depends on now: re-enter every tenant
            self._heads.clear()
            self._dirty.update(self._tenants)
            self._heads_now = now
        heads, versions, starvation_timeout_s = self._heads, self._versions, self.policy.starvation_timeout_s
        for tenant in self._dirty:
            version = versions[tenant] = versions.get(tenant, 0) + 1
            queue = self._tenants.get(tenant)
            if queue is not None and queue.size:
                band, job = queue.head(now, starvation_timeout_s)  # type: ignore[misc]
                entry = (band, -job.spec.priority if band else 0, self.fair_key(tenant), job.seq, version, tenant, job)
                if heads and heads[0][5] == tenant:  # its old entry is on top (it was just popped): replace it
                    heapq.heapreplace(heads, entry)
                else:
                    heapq.heappush(heads, entry)
        self._dirty.clear()
        while heads and heads[0][4] != versions[heads[0][5]]:
            heapq.heappop(heads)
        if not heads:
            return None
        job = heads[0][6]
        self.remove(job.key)
        return job

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
        self._heads_now = None  # every fair key moved: rebuild the heads

    def charge(self, tenant: str, rate: float) -> None:
        """A job of ``tenant`` started using ``rate`` units/s (negative: it stopped)."""
        usage = self.usage.get(tenant)
        if usage is None:
            usage = self.usage[tenant] = TenantUsage()
        usage.allocated = max(0.0, usage.allocated + rate)
        self._dirty.add(tenant)
