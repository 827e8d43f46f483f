"""The cluster as the scheduler sees it: per-node free capacity, minus reservations.

Built from NodeStatus heartbeats. A reservation (an attempt the leader placed)
is subtracted from its node until the node's heartbeat lists the attempt (then
the node's own numbers include it) or the reservation is released. Per pool, a
sorted index of nodes by free millicores and of GPUs by free memory lets the
placer start at the best-fit position instead of scanning every node.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from engine.model import NodeStatus, Resources
from engine.scheduler.records import Reservation, Take


@dataclass(slots=True)
class GpuView:
    index: int
    uuid: str
    total_memory: int
    free_memory: int
    numa_node: int | None
    jobs: int = 0  # attempts sharing this GPU (reserved or reported)
    exclusive: bool = False  # held by an exclusive attempt


@dataclass(slots=True)
class NumaView:
    id: int
    cpus: tuple[int, ...]
    total_millicores: int
    free_millicores: int
    total_memory: int
    free_memory: int


@dataclass(slots=True)
class NodeView:
    node_id: str
    pool: str
    labels: dict[str, str]
    draining: bool
    numa: list[NumaView]
    gpus: list[GpuView]
    free_millicores: int = 0
    free_memory: int = 0
    total_millicores: int = 0
    numa_by_id: dict[int, NumaView] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.numa_by_id = {n.id: n for n in self.numa}
        self.recount()

    def copy(self) -> NodeView:
        """A private copy to try changes on (preemption what-ifs)."""
        return NodeView(self.node_id, self.pool, self.labels, self.draining,
                        [NumaView(n.id, n.cpus, n.total_millicores, n.free_millicores, n.total_memory, n.free_memory)
                         for n in self.numa],
                        [GpuView(g.index, g.uuid, g.total_memory, g.free_memory, g.numa_node, g.jobs, g.exclusive)
                         for g in self.gpus])

    def recount(self) -> None:
        self.free_millicores = sum(n.free_millicores for n in self.numa)
        self.free_memory = sum(n.free_memory for n in self.numa)
        self.total_millicores = sum(n.total_millicores for n in self.numa)


def node_view(status: NodeStatus) -> NodeView:
    return NodeView(
        node_id=status.node_id,
        pool=status.pool,
        labels=dict(status.labels),
        draining=status.draining,
        numa=[NumaView(n.id, tuple(n.cpus), n.total_millicores, n.free_millicores, n.total_memory_bytes,
                       n.free_memory_bytes) for n in status.numa],
        gpus=[GpuView(g.index, g.uuid, g.total_memory_bytes, g.free_memory_bytes, g.numa_node,
                      exclusive=g.allocated, jobs=1 if g.allocated else 0) for g in status.gpus],
    )


@dataclass
class PoolIndex:
    """One pool's nodes, its NUMA nodes sorted by free millicores, and its shareable GPUs by free memory.

    Indexing NUMA nodes rather than whole nodes makes the best-fit order the one
    ``fit`` uses (the tightest single NUMA node), so nodes whose free CPUs are split
    across NUMA nodes do not crowd the front of the order for every job. NUMA nodes
    of GPU nodes are kept apart, so CPU-only jobs can leave GPU nodes' CPUs to GPU jobs.
    """

    members: set[str] = field(default_factory=set)
    numa: list[tuple[int, str, int]] = field(default_factory=list)  # CPU-only nodes: (free mc, node, numa id)
    gpu_node_numa: list[tuple[int, str, int]] = field(default_factory=list)  # the same, of GPU nodes
    gpu: list[tuple[int, str, int]] = field(default_factory=list)  # (free memory, node id, gpu index)

    def add(self, node: NodeView) -> None:
        self.members.add(node.node_id)
        numa_index = self.gpu_node_numa if node.gpus else self.numa
        for numa in node.numa:
            bisect.insort(numa_index, (numa.free_millicores, node.node_id, numa.id))
        for gpu in node.gpus:
            if not gpu.exclusive:
                bisect.insort(self.gpu, (gpu.free_memory, node.node_id, gpu.index))

    def remove(self, node: NodeView) -> None:
        self.members.discard(node.node_id)
        numa_index = self.gpu_node_numa if node.gpus else self.numa
        for numa in node.numa:
            _remove(numa_index, (numa.free_millicores, node.node_id, numa.id))
        for gpu in node.gpus:
            if not gpu.exclusive:
                _remove(self.gpu, (gpu.free_memory, node.node_id, gpu.index))


def _remove(items: list, key: tuple) -> None:
    i = bisect.bisect_left(items, key)
    if i < len(items) and items[i] == key:
        del items[i]


class ClusterView:
    """Nodes, their pool indexes, and outstanding reservations."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeView] = {}
        self.pools: dict[str, PoolIndex] = {}
        self.reservations: dict[str, Reservation] = {}

    @classmethod
    def from_statuses(cls, statuses: list[NodeStatus]) -> ClusterView:
        view = cls()
        for status in statuses:
            view.update_node(status)
        return view

    def update_node(self, status: NodeStatus) -> None:
        """Apply a heartbeat; reservations the node now reports are dropped, the rest re-applied."""
        self.remove_node(status.node_id, keep_reservations=True)
        node = node_view(status)
        reported = set(status.job_ids)
        for key in [k for k, r in self.reservations.items() if r.node_id == node.node_id and k in reported]:
            del self.reservations[key]
        for reservation in self.reservations.values():
            if reservation.node_id == node.node_id:
                apply_take(node, reservation.take, -1)
        self.nodes[node.node_id] = node
        self.pools.setdefault(node.pool, PoolIndex()).add(node)

    def remove_node(self, node_id: str, *, keep_reservations: bool = False) -> None:
        node = self.nodes.pop(node_id, None)
        if node is not None:
            self.pools[node.pool].remove(node)
        if not keep_reservations:
            for key in [k for k, r in self.reservations.items() if r.node_id == node_id]:
                del self.reservations[key]

    def reserve(self, key: str, node_id: str, take: Take, resources: Resources) -> None:
        if key in self.reservations:
            raise ValueError(f"{key} is already reserved on {self.reservations[key].node_id}")
        self._change(node_id, take, -1)
        self.reservations[key] = Reservation(key, node_id, take, resources)

    def release(self, key: str) -> None:
        """The attempt ended (or was never started): give its capacity back."""
        reservation = self.reservations.pop(key, None)
        if reservation is not None and reservation.node_id in self.nodes:
            self._change(reservation.node_id, reservation.take, +1)

    def _change(self, node_id: str, take: Take, sign: int) -> None:
        node = self.nodes[node_id]
        apply_take(node, take, sign, self.pools[node.pool])


def apply_take(node: NodeView, take: Take, sign: int, index: PoolIndex | None = None) -> None:
    """Add (sign=+1) or subtract (sign=-1) ``take`` from ``node``'s free capacity.

    With ``index`` (the node's pool index), the entries of the NUMA nodes and GPUs
    that change are moved to their new place in its sorted lists.
    """
    node_id = node.node_id
    numa_index = None if index is None else (index.gpu_node_numa if node.gpus else index.numa)
    for numa_id, millicores, memory in take.numa:
        numa = node.numa_by_id[numa_id]
        if numa_index is not None:
            _remove(numa_index, (numa.free_millicores, node_id, numa_id))
        millicores *= sign
        memory *= sign
        numa.free_millicores += millicores
        numa.free_memory += memory
        node.free_millicores += millicores
        node.free_memory += memory
        if numa_index is not None:
            bisect.insort(numa_index, (numa.free_millicores, node_id, numa_id))
    for position in take.gpus:
        gpu = node.gpus[position]
        if index is not None and not gpu.exclusive:
            _remove(index.gpu, (gpu.free_memory, node_id, gpu.index))
        gpu.free_memory += sign * take.gpu_memory
        gpu.jobs -= sign
        if take.exclusive_gpu:
            gpu.exclusive = sign < 0
        if index is not None and not gpu.exclusive:
            bisect.insort(index.gpu, (gpu.free_memory, node_id, gpu.index))
