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
    """The live set, rebuilt from the reader cache: joins, updates, lost liveliness and leaves.

    ``refresh`` takes what ``StructReader.read()`` returns: the last value of every
    instance with its *current* state. Deriving the set from that (rather than
    folding one-off samples) means a transient loss of liveliness, seen after this
    process itself stalled, heals as soon as the writer is heard again.
    """

    def __init__(self) -> None:
        self._snapshot = MembershipSnapshot()

    def refresh(self, cached: Iterable[Received[NodeStatus]]) -> bool:
        """Replace the live set; True when it or a node's status changed."""
        nodes = {s.key: s.value for s in cached if s.alive and s.value is not None}
        if nodes == dict(self._snapshot.nodes):
            return False
        self._snapshot = MembershipSnapshot(MappingProxyType(nodes))
        return True

    def snapshot(self) -> MembershipSnapshot:
        return self._snapshot
