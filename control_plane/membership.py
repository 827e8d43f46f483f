"""The live view of nodes, built from NodeStatus heartbeats; the scheduler reads snapshots of it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from control_plane.topics import Received
from engine.model import NodeStatus


@dataclass(frozen=True)
class MembershipSnapshot:
    """An immutable view: the nodes alive now, with their last heartbeat."""

    nodes: Mapping[str, NodeStatus] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def node_ids(self) -> list[str]:
        return sorted(self.nodes)


class Membership:
    """Folds heartbeat samples into the live set: joins, updates, lost liveliness and leaves."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeStatus] = {}
        self._snapshot = MembershipSnapshot()

    def apply(self, samples: Iterable[Received[NodeStatus]]) -> bool:
        """Apply samples in order; True when the live set or a node's status changed."""
        changed = False
        for sample in samples:
            if sample.alive and sample.value is not None:
                changed |= self._nodes.get(sample.key) != sample.value
                self._nodes[sample.key] = sample.value
            elif not sample.alive:
                changed |= self._nodes.pop(sample.key, None) is not None
        if changed:
            self._snapshot = MembershipSnapshot(MappingProxyType(dict(self._nodes)))
        return changed

    def snapshot(self) -> MembershipSnapshot:
        return self._snapshot
