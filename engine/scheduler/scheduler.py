"""One scheduling cycle: pending queues + cluster view -> assignments and preemptions.

The Scheduler owns the policy state the leader keeps in memory (queues, the
cluster view with reservations, running attempts, fair-share usage) and changes
it only through its methods; it performs no I/O and reads no clock (``now`` is
passed in), so a cycle can be replayed from recorded inputs and gives the same
decisions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from engine.model import JobSpec, NodeStatus, NumaPolicy, Placement
from engine.scheduler.cluster import ClusterView
from engine.scheduler.errors import QueueFull, Unschedulable
from engine.scheduler.placement import Diagnosis, Placer
from engine.scheduler.policy import Quota, SchedulingPolicy
from engine.scheduler.preemption import plan_preemption
from engine.scheduler.queues import FairQueues, PendingJob
from engine.scheduler.records import Assign, CycleResult, Fit, Placed, Preempt, RunningJob

_NO_QUOTA = Quota()


@dataclass(slots=True)
class _TenantRunning:
    jobs: int = 0
    millicores: int = 0
    gpus: int = 0
    gpu_memory: int = 0


class Scheduler:
    def __init__(self, policy: SchedulingPolicy | None = None, placer: Placer | None = None, now: float = 0.0):
        self.policy = policy or SchedulingPolicy()
        self.placer = placer or Placer()
        self.view = ClusterView()
        self.queues = FairQueues(self.policy, now)
        self.running: dict[str, RunningJob] = {}
        self._tenant_running: dict[str, _TenantRunning] = defaultdict(_TenantRunning)
        self._preempting: dict[str, tuple[str, ...]] = {}  # pending job key -> victims being evicted

    # --- inputs ----------------------------------------------------------------------------
    def submit(self, spec: JobSpec, now: float, attempt: int = 1) -> PendingJob:
        """Queue an attempt; raises Unschedulable or QueueFull and then changes nothing."""
        if reason := self.policy.pool_violation(spec):
            raise Unschedulable(reason)
        limit = self.policy.tenant(spec.tenant).quota.max_queued
        if limit is not None and self.queues.queued(spec.tenant) >= limit:
            raise QueueFull(spec.tenant, limit)
        job = PendingJob(spec, attempt, now)
        self.queues.push(job)
        return job

    def cancel(self, key: str) -> bool:
        """Drop a queued attempt; False when it is not queued (running ones are cancelled on the node)."""
        self._preempting.pop(key, None)
        return self.queues.remove(key) is not None

    def node_status(self, status: NodeStatus) -> None:
        self.view.update_node(status)

    def node_lost(self, node_id: str) -> list[str]:
        """Forget a node; return the attempts that ran there (the caller re-queues them)."""
        lost = [key for key, r in self.running.items() if r.node_id == node_id]
        for key in lost:
            self._forget(key)
        self.view.remove_node(node_id)
        return lost

    def finished(self, key: str) -> None:
        """An attempt ended on its node (any terminal state, or evicted)."""
        self._forget(key)

    # --- the cycle -------------------------------------------------------------------------
    def cycle(self, now: float, max_decisions: int | None = None) -> CycleResult:
        result = CycleResult()
        self.queues.advance(now)
        passed: list[PendingJob] = []
        unplaceable: dict[tuple, str] = {}  # jobs of one shape that did not fit this cycle
        decisions = max_decisions if max_decisions is not None else len(self.queues)
        while decisions > 0:
            job = self.queues.pop_next(now)
            if job is None:
                break
            outcome = self._consider(job, unplaceable)
            if isinstance(outcome, Assign):
                result.assignments.append(outcome)
                decisions -= 1
                continue
            if outcome is not None:
                result.preemptions.append(outcome)
                decisions -= 1
            passed.append(job)
        for job in passed:
            self.queues.push(job)
        result.waiting = len(self.queues)
        return result

    def _consider(self, job: PendingJob, unplaceable: dict[tuple, str]) -> Assign | Preempt | None:
        if reason := self._quota_reason(job.spec):
            job.why = reason
            return None
        if unplaceable and (why := unplaceable.get(_shape(job.spec))) is not None:
            job.why = why
            return None
        placed = self.placer.place(job.spec, self.view)
        if type(placed) is Placed:
            return self._assign(job, placed)
        assert isinstance(placed, Diagnosis)
        job.why = str(placed)
        return self._maybe_preempt(job, unplaceable)

    def _maybe_preempt(self, job: PendingJob, unplaceable: dict[tuple, str]) -> Preempt | None:
        if job.key in self._preempting:
            if all(v in self.running for v in self._preempting[job.key]):
                job.why = f"waiting for {len(self._preempting[job.key])} preempted attempts to stop"
                return None
            del self._preempting[job.key]  # some victims are gone, yet it still does not fit: plan anew
        evicting = {v for victims in self._preempting.values() for v in victims}
        candidates = (r for k, r in self.running.items() if k not in evicting)
        plan = plan_preemption(job.spec, self.view, candidates, self.placer.filters)
        if plan is None:
            unplaceable[_shape(job.spec)] = job.why
            return None
        self._preempting[job.key] = plan.victims
        job.why = f"preempting {len(plan.victims)} attempts on {plan.node_id}"
        return Preempt(job, plan.node_id, plan.victims)

    def _assign(self, job: PendingJob, placed: Placed) -> Assign:
        spec, take = job.spec, placed.fit.take
        self.view.reserve(job.key, placed.node_id, take, spec.resources)
        rate = self.policy.cost_rate(spec.resources)
        self.running[job.key] = RunningJob(job.key, spec.tenant, placed.node_id, spec.priority,
                                           self.policy.preemptible(spec), take, rate)
        usage = self._tenant_running[spec.tenant]
        usage.jobs += 1
        usage.millicores += spec.resources.millicores
        usage.gpus += spec.resources.gpus
        usage.gpu_memory += spec.resources.gpus * spec.resources.gpu_memory_bytes
        self.queues.charge(spec.tenant, rate)
        self._preempting.pop(job.key, None)
        job.why = ""
        return Assign(job, placed.node_id, self._placement(spec, placed.node_id, placed.fit))

    def _placement(self, spec: JobSpec, node_id: str, node_fit: Fit) -> Placement:
        node = self.view.nodes[node_id]
        take = node_fit.take
        gpu_uuids = [node.gpus[p].uuid for p in take.gpus]
        if spec.resources.numa is NumaPolicy.NONE or not node_fit.single_numa:
            return Placement(gpu_uuids=gpu_uuids)
        numa_id = take.numa[0][0]
        return Placement(numa_nodes=[numa_id], cpus=list(node.numa_by_id[numa_id].cpus), gpu_uuids=gpu_uuids)

    def _quota_reason(self, spec: JobSpec) -> str | None:
        quota = self.policy.tenant(spec.tenant).quota
        if quota == _NO_QUOTA:
            return None
        used = self._tenant_running[spec.tenant]
        req = spec.resources
        checks = (
            ("max_running", quota.max_running, used.jobs + 1),
            ("max_millicores", quota.max_millicores, used.millicores + req.millicores),
            ("max_gpus", quota.max_gpus, used.gpus + req.gpus),
            ("max_gpu_memory_bytes", quota.max_gpu_memory_bytes, used.gpu_memory + req.gpus * req.gpu_memory_bytes),
        )
        for name, cap, would_be in checks:
            if cap is not None and would_be > cap:
                return f"tenant {spec.tenant} quota {name}={cap} reached"
        return None

    def _forget(self, key: str) -> None:
        running = self.running.pop(key, None)
        self.view.release(key)
        if running is None:
            return
        usage = self._tenant_running[running.tenant]
        usage.jobs -= 1
        # Per-tenant totals are recomputed from what the attempt took, not from the spec.
        usage.millicores -= sum(mc for _, mc, _ in running.take.numa)
        usage.gpus -= len(running.take.gpus)
        usage.gpu_memory -= len(running.take.gpus) * running.take.gpu_memory
        self.queues.charge(running.tenant, -running.rate)


def _shape(spec: JobSpec) -> tuple:
    """Jobs of one shape fit in the same places: once one does not fit, the rest of the cycle skips them."""
    return (spec.pool, tuple(sorted(spec.node_selector.items())), spec.resources)
