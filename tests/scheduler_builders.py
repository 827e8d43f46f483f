"""Builders for scheduler tests: injected topologies through the same NodeStatus the real reader fills."""
from __future__ import annotations

import itertools

from engine.model import GpuDevice, JobSpec, NodeStatus, NumaNodeCapacity, NumaPolicy, Resources, new_job_id
from engine.model.limits import GiB

_ids = itertools.count(1)


def node(node_id: str, *, numa: int = 2, cores_per_numa: int = 8, gib_per_numa: int = 64,
         gpus: list[tuple[int, int, int]] = (), pool: str = "default", labels: dict | None = None,
         draining: bool = False, job_ids: list[str] = ()) -> NodeStatus:
    """``gpus``: (total GiB, free GiB, numa node) per GPU."""
    numa_nodes = [
        NumaNodeCapacity(id=i, cpus=list(range(i * cores_per_numa, (i + 1) * cores_per_numa)),
                         total_millicores=cores_per_numa * 1000, free_millicores=cores_per_numa * 1000,
                         total_memory_bytes=gib_per_numa * GiB, free_memory_bytes=gib_per_numa * GiB)
        for i in range(numa)
    ]
    devices = [GpuDevice(index=i, uuid=f"GPU-{node_id}-{i}", total_memory_bytes=t * GiB,
                         free_memory_bytes=f * GiB, numa_node=n) for i, (t, f, n) in enumerate(gpus)]
    return NodeStatus(node_id=node_id, pool=pool, labels=labels or {}, numa=numa_nodes, gpus=devices,
                      draining=draining, job_ids=list(job_ids))


def job(tenant: str = "team-a", *, millicores: int = 1000, gib: float = 1, gpus: int = 0, gpu_gib: float = 0,
        numa: str = "none", priority: int = 100, pool: str = "default", selector: dict | None = None,
        preemptible: bool = False, exclusive_gpu: bool = False, timeout_s: float = 3600) -> JobSpec:
    resources = Resources(millicores=millicores, memory_bytes=int(gib * GiB), gpus=gpus,
                          gpu_memory_bytes=int(gpu_gib * GiB), numa=NumaPolicy(numa), exclusive_gpu=exclusive_gpu)
    return JobSpec(id=new_job_id(now_ms=next(_ids)), tenant=tenant, argv=["/bin/true"], resources=resources,
                   priority=priority, pool=pool, node_selector=selector or {}, preemptible=preemptible,
                   timeout_s=timeout_s)
