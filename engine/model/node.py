"""What a node has: the capacity a coordinator reports in its heartbeats."""
from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from engine.model.job import Labels, Name

NonNegative = Annotated[int, Meta(ge=0)]


class NumaNodeCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """One NUMA node: its CPU ids and its total and free CPU and memory."""

    id: NonNegative
    cpus: list[NonNegative]
    total_millicores: NonNegative
    free_millicores: NonNegative
    total_memory_bytes: NonNegative
    free_memory_bytes: NonNegative

    def __post_init__(self) -> None:
        if self.free_millicores > self.total_millicores:
            raise ValueError(f"NUMA node {self.id}: free millicores exceed total")
        if self.free_memory_bytes > self.total_memory_bytes:
            raise ValueError(f"NUMA node {self.id}: free memory exceeds total")


class GpuDevice(msgspec.Struct, frozen=True, kw_only=True):
    """One GPU as NVML reports it (or an injected topology in tests)."""

    index: NonNegative
    uuid: Annotated[str, Meta(min_length=1, max_length=128)]
    name: str = ""
    total_memory_bytes: NonNegative
    free_memory_bytes: NonNegative
    numa_node: int | None = None  # None where the platform does not say
    allocated: bool = False  # held exclusively by a running job

    def __post_init__(self) -> None:
        if self.free_memory_bytes > self.total_memory_bytes:
            raise ValueError(f"GPU {self.uuid}: free memory exceeds total")


class NodeStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A coordinator's heartbeat: who it is and what it can still take."""

    node_id: Name
    incarnation: NonNegative = 0  # grows on every coordinator restart
    pool: Name = "default"
    labels: Labels = {}
    numa: list[NumaNodeCapacity] = []
    gpus: list[GpuDevice] = []
    running_jobs: NonNegative = 0
    job_ids: list[str] = []  # attempts the node runs or has accepted: "job_id/attempt"
    draining: bool = False
    at_ms: NonNegative = 0

    @property
    def total_millicores(self) -> int:
        return sum(n.total_millicores for n in self.numa)

    @property
    def free_millicores(self) -> int:
        return sum(n.free_millicores for n in self.numa)

    @property
    def free_memory_bytes(self) -> int:
        return sum(n.free_memory_bytes for n in self.numa)
