"""Preemption: the cheapest set of running, preemptible, lower-priority attempts whose
eviction lets a job fit. Decisions are returned, never executed here.

Per node, the victim set is minimal: exact search over subsets (smallest first,
then lowest highest-priority, then least resource cost) when a node has few
candidates, else greedy eviction followed by a reprieve pass that gives back
every victim not needed. Across nodes the plan with the lowest highest victim
priority, then fewest victims, then least cost, then node id wins.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from engine.model import JobSpec
from engine.scheduler.cluster import ClusterView, NodeView, apply_take
from engine.scheduler.fit import fit
from engine.scheduler.plugins import FilterPlugin
from engine.scheduler.records import Fit, RunningJob

EXACT_SEARCH_LIMIT = 8  # candidates per node searched exhaustively (2**8 subsets)


@dataclass(frozen=True, slots=True)
class PreemptionPlan:
    node_id: str
    victims: tuple[str, ...]
    fit: Fit

    def cost_key(self, by_key: dict[str, RunningJob]) -> tuple:
        victims = [by_key[k] for k in self.victims]
        return (max(v.priority for v in victims), len(victims), sum(v.rate for v in victims), self.node_id)


def plan_preemption(
    job: JobSpec,
    view: ClusterView,
    running: Iterable[RunningJob],
    filters: tuple[FilterPlugin, ...],
) -> PreemptionPlan | None:
    """The cheapest plan over all nodes, or None when no eviction makes room."""
    by_node: dict[str, list[RunningJob]] = {}
    for victim in running:
        if victim.preemptible and victim.priority < job.priority:
            by_node.setdefault(victim.node_id, []).append(victim)
    by_key = {v.key: v for victims in by_node.values() for v in victims}
    best: PreemptionPlan | None = None
    for node_id in sorted(by_node):
        node = view.nodes.get(node_id)
        if node is None or any(f.filter(job, node) for f in filters):
            continue
        plan = _plan_on_node(job, node, sorted(by_node[node_id], key=_victim_cost))
        if plan is not None and (best is None or plan.cost_key(by_key) < best.cost_key(by_key)):
            best = plan
    return best


def fits_without(job: JobSpec, node: NodeView, victims: Iterable[RunningJob]) -> Fit | None:
    trial = node.copy()
    for victim in victims:
        apply_take(trial, victim.take, +1)
    result = fit(job.resources, trial)
    return result if isinstance(result, Fit) else None


def _victim_cost(victim: RunningJob) -> tuple:
    return (victim.priority, victim.rate, victim.key)


def _plan_on_node(job: JobSpec, node: NodeView, candidates: list[RunningJob]) -> PreemptionPlan | None:
    if fits_without(job, node, candidates) is None:
        return None
    if len(candidates) <= EXACT_SEARCH_LIMIT:
        return _exact(job, node, candidates)
    return _greedy_with_reprieve(job, node, candidates)


def _exact(job: JobSpec, node: NodeView, candidates: list[RunningJob]) -> PreemptionPlan | None:
    for size in range(1, len(candidates) + 1):
        found = [
            (max(v.priority for v in subset), sum(v.rate for v in subset), tuple(v.key for v in subset), result)
            for subset in combinations(candidates, size)
            if (result := fits_without(job, node, subset)) is not None
        ]
        if found:
            _, _, keys, result = min(found, key=lambda f: f[:3])
            return PreemptionPlan(node.node_id, keys, result)
    return None


def _greedy_with_reprieve(job: JobSpec, node: NodeView, candidates: list[RunningJob]) -> PreemptionPlan | None:
    victims: list[RunningJob] = []
    for victim in candidates:  # cheapest first until the job fits
        victims.append(victim)
        if fits_without(job, node, victims) is not None:
            break
    for victim in sorted(victims, key=_victim_cost, reverse=True):  # give back the dearest first
        rest = [v for v in victims if v is not victim]
        if fits_without(job, node, rest) is not None:
            victims = rest
    result = fits_without(job, node, victims)
    return PreemptionPlan(node.node_id, tuple(v.key for v in victims), result) if result else None
