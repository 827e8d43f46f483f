"""Scheduling policy settings: tenants (weights, quotas), pools, fairness and aging knobs."""
from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from engine.model import JobSpec, Resources
from engine.model.limits import GiB

Positive = Annotated[float, Meta(gt=0)]


class Quota(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-tenant caps; ``None`` means no cap."""

    max_running: Annotated[int, Meta(ge=0)] | None = None
    max_millicores: Annotated[int, Meta(ge=0)] | None = None
    max_gpus: Annotated[int, Meta(ge=0)] | None = None
    max_gpu_memory_bytes: Annotated[int, Meta(ge=0)] | None = None
    max_queued: Annotated[int, Meta(ge=0)] | None = None


class TenantPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    weight: Positive = 1.0
    quota: Quota = Quota()


class PoolPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A pool: whether its jobs may be preempted, and caps on what a job there may ask for."""

    preemptible: bool = False
    max_runtime_s: Positive | None = None
    max_millicores: Annotated[int, Meta(ge=1)] | None = None
    max_gpus: Annotated[int, Meta(ge=0)] | None = None


class SchedulingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    tenants: dict[str, TenantPolicy] = {}
    default_tenant: TenantPolicy = TenantPolicy()
    pools: dict[str, PoolPolicy] = msgspec.field(default_factory=lambda: {"default": PoolPolicy()})
    starvation_timeout_s: Positive = 300.0  # a job waiting longer goes ahead of priorities
    usage_half_life_s: Positive = 3600.0  # consumed resource-seconds decay with this half-life
    fair_share_horizon_s: Positive = 60.0  # running allocation counts as this many seconds of usage
    gpu_weight: Annotated[float, Meta(ge=0)] = 8.0  # one GPU-second costs this many CPU-seconds
    memory_weight_per_gib: Annotated[float, Meta(ge=0)] = 0.125

    def tenant(self, name: str) -> TenantPolicy:
        return self.tenants.get(name, self.default_tenant)

    def cost_rate(self, req: Resources) -> float:
        """Resource units per second of running ``req`` (CPU-seconds, GPU-seconds weighted)."""
        return (req.millicores / 1000 + req.memory_bytes / GiB * self.memory_weight_per_gib
                + req.gpus * self.gpu_weight)

    def pool_violation(self, job: JobSpec) -> str | None:
        """Why ``job`` can never run in its pool, or None."""
        pool = self.pools.get(job.pool)
        if pool is None:
            return f"unknown pool {job.pool!r} (known: {', '.join(sorted(self.pools))})"
        if pool.max_runtime_s is not None and job.timeout_s > pool.max_runtime_s:
            return f"timeout {job.timeout_s:g}s exceeds pool {job.pool} cap of {pool.max_runtime_s:g}s"
        if pool.max_millicores is not None and job.resources.millicores > pool.max_millicores:
            return f"{job.resources.millicores} millicores exceed pool {job.pool} cap of {pool.max_millicores}"
        if pool.max_gpus is not None and job.resources.gpus > pool.max_gpus:
            return f"{job.resources.gpus} GPUs exceed pool {job.pool} cap of {pool.max_gpus}"
        return None

    def preemptible(self, job: JobSpec) -> bool:
        pool = self.pools.get(job.pool)
        return job.preemptible or (pool is not None and pool.preemptible)
