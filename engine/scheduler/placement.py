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
from itertools import chain
from operator import itemgetter

from engine.model import JobSpec, NumaPolicy
from engine.model.limits import GiB
from engine.scheduler.cluster import ClusterView, PoolIndex
from engine.scheduler.fit import fit
from engine.scheduler.plugins import DEFAULT_FILTERS, DEFAULT_SCORES, CpuPacking, FilterPlugin, ScorePlugin
from engine.scheduler.records import Fit, Placed


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
        candidates: int = 3,
        order: str = "best_fit",
    ) -> None:
        self.filters = filters
        self.scores = scores
        self.candidates = candidates
        self.order = order
        self._spread = any(isinstance(s, CpuPacking) and s.spread for s in scores)
        self._weighted = tuple((s.weight, s.score) for s in scores)

    def place(self, job: JobSpec, view: ClusterView) -> Placed | Diagnosis:
        index = view.pools.get(job.pool)
        best: Placed | None = None
        if index is not None:
            checks = [f.filter for f in self.filters if f.pre_filter(job)]
            req, nodes, weighted, left = job.resources, view.nodes, self._weighted, self.candidates
            seen: set[str] = set()
            for node_id in self._candidate_ids(job, index, seen):
                if node_id in seen:
                    continue
                seen.add(node_id)
                node = nodes[node_id]
                for check in checks:
                    if check(job, node):
                        break
                else:
                    node_fit = fit(req, node)
                    if type(node_fit) is not Fit:
                        continue
                    score = 0.0
                    for weight, scorer in weighted:
                        score += weight * scorer(job, node, node_fit)
                    # The highest score wins; ties go to the lowest node id.
                    if best is None or score > best.score or (score == best.score and node_id < best.node_id):
                        best = Placed(node_id, node_fit, score)
                    left -= 1
                    if not left:
                        break
        return best if best is not None else self.diagnose(job, view)

    def _candidate_ids(self, job: JobSpec, index: PoolIndex, seen: set[str]) -> Iterator[str]:
        """Node ids in visiting order; a node may come more than once (the caller skips those in ``seen``)."""
        req = job.resources
        if self.order == "first_fit":
            return iter(sorted(index.members))
        if req.gpus:
            ordered = _from(index.gpu, req.gpu_memory_bytes)
        elif self._spread:
            ordered = chain(reversed(index.numa), reversed(index.gpu_node_numa))
        else:  # CPU-only jobs: CPU-only nodes first, then GPU nodes' spare CPUs
            ordered = chain(_from(index.numa, req.millicores), _from(index.gpu_node_numa, req.millicores))
        ids = map(itemgetter(1), ordered)
        if not req.gpus and req.numa is not NumaPolicy.STRICT:
            # Jobs that may spread across NUMA nodes can fit where no single NUMA node has room.
            return chain(ids, _unvisited(index, seen))
        return ids

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


def _from(entries: list[tuple[int, str, int]], least: int) -> Iterator[tuple[int, str, int]]:
    """Entries with a first field >= ``least``, ascending, without copying the list."""
    return map(entries.__getitem__, range(bisect.bisect_left(entries, (least,)), len(entries)))


def _unvisited(index: PoolIndex, seen: set[str]) -> Iterator[str]:
    """The pool's nodes not yet in ``seen``, by id; computed only once the iteration reaches it."""
    yield from sorted(index.members - seen)


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
