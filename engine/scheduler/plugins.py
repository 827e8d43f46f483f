"""Filter and Score plugins over a read-only NodeView.

A filter returns ``None`` when the node passes, else the reason it does not (the
reasons are counted per node for the pending job's diagnosis). A score returns
0..100, higher is better; the placer weighs and sums them. Plugins never change
the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.model import JobSpec, NumaPolicy
from engine.scheduler.cluster import NodeView
from engine.scheduler.records import Fit


class FilterPlugin(Protocol):
    name: str

    def pre_filter(self, job: JobSpec) -> bool:
        """False when this filter cannot reject any node for ``job`` (skip it, as Kubernetes' PreFilter Skip)."""
        ...

    def filter(self, job: JobSpec, node: NodeView) -> str | None: ...


class ScorePlugin(Protocol):
    name: str
    weight: int

    def score(self, job: JobSpec, node: NodeView, fit: Fit) -> float: ...


class PoolFilter:
    name = "Pool"
    REASON = "node is in another pool"

    def pre_filter(self, job: JobSpec) -> bool:
        return True

    def filter(self, job: JobSpec, node: NodeView) -> str | None:
        return None if node.pool == job.pool else self.REASON


class NodeSelectorFilter:
    name = "NodeSelector"
    REASON = "node labels do not match the node selector"

    def pre_filter(self, job: JobSpec) -> bool:
        return bool(job.node_selector)

    def filter(self, job: JobSpec, node: NodeView) -> str | None:
        labels = node.labels
        for key, value in job.node_selector.items():
            if labels.get(key) != value:
                return self.REASON
        return None


class DrainingFilter:
    name = "Draining"
    REASON = "node is draining"

    def pre_filter(self, job: JobSpec) -> bool:
        return True

    def filter(self, job: JobSpec, node: NodeView) -> str | None:
        return self.REASON if node.draining else None


@dataclass
class GpuMemoryBestFit:
    """Tightest GPUs first: small free holes get used, large ones stay whole for large jobs."""

    weight: int = 3
    name: str = "GpuMemoryBestFit"

    def score(self, job: JobSpec, node: NodeView, fit: Fit) -> float:
        req = job.resources
        if not req.gpus:
            return 100.0 if not node.gpus else 50.0  # keep GPU nodes for GPU jobs
        total = sum(node.gpus[p].total_memory for p in fit.take.gpus) or 1
        return 100.0 * (1.0 - fit.gpu_slack / total)


@dataclass
class NumaLocality:
    """CPUs and memory on one NUMA node, with the job's GPUs attached to that node."""

    weight: int = 2
    name: str = "NumaLocality"

    def score(self, job: JobSpec, node: NodeView, fit: Fit) -> float:
        if job.resources.numa is NumaPolicy.NONE:
            return 100.0
        single = 50.0 if fit.single_numa else 0.0
        gpus = job.resources.gpus
        return single + (50.0 * fit.gpus_local / gpus if gpus else 50.0 * fit.single_numa)


@dataclass
class CpuPacking:
    """Pack (fill busy nodes first, leave whole nodes free) or spread (balance load)."""

    spread: bool = False
    weight: int = 1
    name: str = "CpuPacking"

    def score(self, job: JobSpec, node: NodeView, fit: Fit) -> float:
        used = 1.0 - (node.free_millicores - job.resources.millicores) / (node.total_millicores or 1)
        return 100.0 * (1.0 - used if self.spread else used)


DEFAULT_FILTERS: tuple[FilterPlugin, ...] = (PoolFilter(), DrainingFilter(), NodeSelectorFilter())
DEFAULT_SCORES: tuple[ScorePlugin, ...] = (GpuMemoryBestFit(), NumaLocality(), CpuPacking())
