"""Does a request fit a node, and exactly where: which NUMA node(s), which GPUs.

Pure functions over a NodeView. A fit prefers, in order: GPUs on the same NUMA
node as the CPUs, one NUMA node for CPUs and memory (required by ``strict``),
and the tightest GPUs (best fit on free GPU memory, so large holes stay whole).
"""
from __future__ import annotations

from engine.model import NumaPolicy, Resources
from engine.scheduler.cluster import GpuView, NodeView, NumaView
from engine.scheduler.records import Fit, Take

# Reasons a node does not fit, as counted in diagnoses.
INSUFFICIENT_CPU = "Insufficient cpu"
INSUFFICIENT_MEMORY = "Insufficient memory"
INSUFFICIENT_GPUS = "Insufficient GPUs"
INSUFFICIENT_GPU_MEMORY = "Insufficient free GPU memory"
NO_SINGLE_NUMA = "No single NUMA node fits (numa=strict)"


def usable_gpus(req: Resources, node: NodeView) -> list[tuple[int, GpuView]]:
    """GPUs that can take this request, tightest first (best fit), ties by index."""
    need, exclusive = req.gpu_memory_bytes, req.exclusive_gpu
    usable = [
        (g.free_memory, g.index, pos, g) for pos, g in enumerate(node.gpus)
        if not g.exclusive and g.free_memory >= need and not (exclusive and g.jobs)
    ]
    usable.sort()  # GPU indexes are unique: the GpuViews themselves are never compared
    return [(pos, g) for _, _, pos, g in usable]


def fit(req: Resources, node: NodeView) -> Fit | str:
    """Where ``req`` goes on ``node``, or the reason it does not fit."""
    if node.free_millicores < req.millicores:
        return INSUFFICIENT_CPU
    if node.free_memory < req.memory_bytes:
        return INSUFFICIENT_MEMORY
    if not req.gpus:  # the common case, kept short: the tightest NUMA node that fits
        best: NumaView | None = None
        for numa in node.numa:
            if (numa.free_millicores >= req.millicores and numa.free_memory >= req.memory_bytes
                    and (best is None or (numa.free_millicores, numa.free_memory) < (best.free_millicores,
                                                                                     best.free_memory))):
                best = numa
        if best is not None:
            return Fit(Take(((best.id, req.millicores, req.memory_bytes),), (), 0, False), True, 0, 0)
        return NO_SINGLE_NUMA if req.numa is NumaPolicy.STRICT else _spread(req, node, [])
    gpus: list[tuple[int, GpuView]] = []
    if req.gpus:
        gpus = usable_gpus(req, node)
        if len(gpus) < req.gpus:
            return INSUFFICIENT_GPUS if len(node.gpus) < req.gpus else INSUFFICIENT_GPU_MEMORY
    single = [n for n in node.numa if n.free_millicores >= req.millicores and n.free_memory >= req.memory_bytes]
    if single:  # one NUMA node when possible, whatever the policy: it keeps NUMA holes whole
        return _best_single_numa(req, single, gpus)
    if req.numa is NumaPolicy.STRICT:
        return NO_SINGLE_NUMA
    return _spread(req, node, gpus)


def _best_single_numa(req: Resources, candidates: list[NumaView], gpus: list[tuple[int, GpuView]]) -> Fit:
    usable_on: dict[int | None, int] = {}  # usable GPUs per NUMA node
    for _, gpu in gpus:
        usable_on[gpu.numa_node] = usable_on.get(gpu.numa_node, 0) + 1
    best: tuple | None = None
    for numa in candidates:
        local = min(req.gpus, usable_on.get(numa.id, 0))  # _pick_gpus takes local GPUs first
        # Most local GPUs, then the tightest NUMA node (best fit), then the lowest id.
        key = (-local, numa.free_millicores - req.millicores, numa.free_memory - req.memory_bytes, numa.id)
        if best is None or key < best[0]:
            best = (key, numa, local)
    assert best is not None
    _, numa, local = best
    chosen = _pick_gpus(req, gpus, numa.id)
    take = Take(((numa.id, req.millicores, req.memory_bytes),), tuple(p for p, _ in chosen),
                req.gpu_memory_bytes, req.exclusive_gpu)
    return Fit(take, True, local, _slack(req, chosen))


def _spread(req: Resources, node: NodeView, gpus: list[tuple[int, GpuView]]) -> Fit:
    """Take CPUs and memory from the NUMA nodes with most room first (numa=none, or preferred that cannot)."""
    parts: dict[int, list[int]] = {}
    for resource, want in ((0, req.millicores), (1, req.memory_bytes)):
        order = sorted(node.numa, key=lambda n: (-(n.free_millicores, n.free_memory)[resource], n.id))
        for numa in order:
            have = (numa.free_millicores, numa.free_memory)[resource]
            got = min(have, want)
            if got:
                parts.setdefault(numa.id, [0, 0])[resource] += got
                want -= got
            if not want:
                break
    chosen = _pick_gpus(req, gpus, None)
    numa_take = tuple((i, mc, mem) for i, (mc, mem) in sorted(parts.items()))
    take = Take(numa_take, tuple(p for p, _ in chosen), req.gpu_memory_bytes, req.exclusive_gpu)
    return Fit(take, len(numa_take) == 1, 0, _slack(req, chosen))


def _pick_gpus(req: Resources, gpus: list[tuple[int, GpuView]], numa_id: int | None) -> list[tuple[int, GpuView]]:
    """The ``req.gpus`` tightest GPUs, those on ``numa_id`` first."""
    if not req.gpus:
        return []
    if numa_id is None:
        return gpus[: req.gpus]
    local = [pg for pg in gpus if pg[1].numa_node == numa_id]
    other = [pg for pg in gpus if pg[1].numa_node != numa_id]
    return (local + other)[: req.gpus]


def _slack(req: Resources, chosen: list[tuple[int, GpuView]]) -> int:
    return sum(g.free_memory - req.gpu_memory_bytes for _, g in chosen)
