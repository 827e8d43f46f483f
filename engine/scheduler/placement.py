"""Placement: candidates from the pool's sorted indexes, filters, fit, scores; or a diagnosis.

Candidates are visited in best-fit order (the tightest node for CPU jobs, the
tightest GPU for GPU jobs), so the first few feasible nodes are the ones worth
scoring; the placer scores at most ``candidates`` feasible nodes, like the
Kubernetes scheduler's percentage of nodes to score. Ties are broken by node id,
so the same view and job always give the same node.
"""
from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from engine.model import JobSpec
from engine.model.limits import GiB
from engine.scheduler.cluster import ClusterView, PoolIndex
from engine.scheduler.fit import Fit, fit
from engine.scheduler.plugins import DEFAULT_FILTERS, DEFAULT_SCORES, CpuPacking, FilterPlugin, ScorePlugin


@dataclass(frozen=True, slots=True)
class Placed:
    node_id: str
    fit: Fit
    score: float


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why a job fits nowhere: per-reason node counts and the nearest miss."""

    pool: str
    nodes: int
    reasons: tuple[tuple[str, int], ...]
    best: str

    def __str__(self) -> str:
        if not self.nodes:
            return f"no nodes in pool {self.pool}"
        counts = ", ".join(f"{n} {reason}" for reason, n in self.reasons)
        return f"0/{self.nodes} nodes available in pool {self.pool}: {counts}; best: {self.best}"


class Placer:
    """Finds the node for one job. ``order="first_fit"`` is the baseline that ignores scores."""

    def __init__(
        self,
        filters: tuple[FilterPlugin, ...] = DEFAULT_FILTERS,
        scores: tuple[ScorePlugin, ...] = DEFAULT_SCORES,
        candidates: int = 4,
        order: str = "best_fit",
    ) -> None:
        self.filters = filters
        self.scores = scores
        self.candidates = candidates
        self.order = order
        self._spread = any(isinstance(s, CpuPacking) and s.spread for s in scores)

    def place(self, job: JobSpec, view: ClusterView) -> Placed | Diagnosis:
        index = view.pools.get(job.pool)
        feasible: list[tuple[str, Fit]] = []
        if index is not None:
            for node_id in self._candidate_ids(job, view, index):
                node = view.nodes[node_id]
                if any(f.filter(job, node) for f in self.filters):
                    continue
                result = fit(job.resources, node)
                if isinstance(result, Fit):
                    feasible.append((node_id, result))
                    if len(feasible) >= self.candidates:
                        break
        if not feasible:
            return self.diagnose(job, view)
        best = min(feasible, key=lambda nf: (-self._score(job, view, nf), nf[0]))
        return Placed(best[0], best[1], self._score(job, view, best))

    def _score(self, job: JobSpec, view: ClusterView, node_fit: tuple[str, Fit]) -> float:
        node = view.nodes[node_fit[0]]
        return sum(s.weight * s.score(job, node, node_fit[1]) for s in self.scores)

    def _candidate_ids(self, job: JobSpec, view: ClusterView, index: PoolIndex) -> Iterator[str]:
        req = job.resources
        if self.order == "first_fit":
            yield from sorted(node_id for _, node_id in index.cpu)
        elif req.gpus:
            seen: set[str] = set()
            for _, node_id, _ in index.gpu[bisect.bisect_left(index.gpu, (req.gpu_memory_bytes,)):]:
                if node_id not in seen:
                    seen.add(node_id)
                    yield node_id
        elif self._spread:
            for _, node_id in reversed(index.cpu):
                yield node_id
        else:
            for _, node_id in index.cpu[bisect.bisect_left(index.cpu, (req.millicores,)):]:
                yield node_id

    def diagnose(self, job: JobSpec, view: ClusterView) -> Diagnosis:
        """Visit every node of the pool and count why each one is out (the slow, explaining path)."""
        reasons: Counter[str] = Counter()
        nodes = [n for n in view.nodes.values() if n.pool == job.pool]
        for node in nodes:
            reason = next((r for f in self.filters if (r := f.filter(job, node))), None)
            if reason is None:
                result = fit(job.resources, node)
                reason = result if isinstance(result, str) else "fits but was not scored"
            reasons[reason] += 1
        ordered = tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        return Diagnosis(job.pool, len(nodes), ordered, _nearest_miss(job, nodes))


def _nearest_miss(job: JobSpec, nodes: list) -> str:
    if not nodes:
        return "none"
    if job.resources.gpus:
        gpus = [(g.free_memory, n.node_id, g.index) for n in nodes for g in n.gpus if not g.exclusive]
        if not gpus:
            return "no GPU free in the pool"
        free, node_id, index = max(gpus, key=lambda t: (t[0], t[1]))
        return f"{node_id} gpu{index} {free / GiB:.1f} GiB free (needs {job.resources.gpu_memory_bytes / GiB:.1f})"
    node = max(nodes, key=lambda n: (n.free_millicores, n.free_memory, n.node_id))
    return (f"{node.node_id} {node.free_millicores / 1000:.2f} CPUs, {node.free_memory / GiB:.1f} GiB free "
            f"(needs {job.resources.millicores / 1000:.2f}, {job.resources.memory_bytes / GiB:.1f})")
