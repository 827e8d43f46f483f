"""Leader election policy: pure, deterministic, no I/O.

When no live leader exists, the live, non-draining node with the smallest id
should lead (a draining node leads only if every node drains). Becoming leader means claiming the next epoch
through an ``EpochStore`` (Kafka, filled in by the coordinator), which fences any
older leader; announcements from an epoch older than the highest seen are ignored.
"""
from __future__ import annotations

import enum
from typing import Protocol

from control_plane.membership import MembershipSnapshot
from control_plane.messages import LeaderTerm


class EpochStore(Protocol):
    def claim(self) -> int:
        """Fence older leaders and return a new, larger epoch; raises if fenced meanwhile."""
        ...

    def check(self, epoch: int) -> None:
        """Raise if a newer leader has fenced us."""
        ...

    def release(self) -> None: ...


def expected_leader(snapshot: MembershipSnapshot) -> str | None:
    nodes = snapshot.nodes
    eligible = sorted(n for n, status in nodes.items() if not status.draining)
    if eligible:
        return eligible[0]
    return min(nodes) if nodes else None


class Action(enum.Enum):
    NONE = "none"
    CLAIM = "claim"  # we should lead and do not: claim the next epoch
    STEP_DOWN = "step_down"  # we lead but should not, or someone newer leads


def decide(me: str, snapshot: MembershipSnapshot, my_term: LeaderTerm | None, newest: LeaderTerm | None) -> Action:
    """What ``me`` should do given the live nodes, its own term, and the newest announced term.

    A live leader is never preempted (a node with a smaller id rejoining follows it):
    leadership changes only when the leader is gone, which keeps terms long and stable.
    """
    if my_term is not None:
        return Action.STEP_DOWN if newest is not None and newest.epoch > my_term.epoch else Action.NONE
    if newest is not None and newest.node != me and newest.node in snapshot.nodes:
        return Action.NONE  # follow the live leader
    return Action.CLAIM if expected_leader(snapshot) == me else Action.NONE


def newest_live(cached) -> LeaderTerm | None:
    """The highest-epoch term among live announcements (``StructReader.read()`` of the leader topic)."""
    newest = None
    for sample in cached:
        if sample.alive and sample.value is not None:
            newest = newer(newest, sample.value)
    return newest


def newer(a: LeaderTerm | None, b: LeaderTerm | None) -> LeaderTerm | None:
    """The term with the higher epoch (stale announcements lose)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a.epoch >= b.epoch else b
