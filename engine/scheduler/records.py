"""The small immutable values the scheduler passes around: takes, fits, placements, decisions.

They are msgspec Structs (built in C, about 4x cheaper than a NamedTuple) and live
in a module of their own because the modules that use them may be compiled with
mypyc (see ``engine.compiled``), which would drop the class options (``frozen``, ``gc``)
of a Struct defined inside a compiled module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from engine.model import Placement, Resources

if TYPE_CHECKING:
    from engine.scheduler.queues import PendingJob


class Take(msgspec.Struct, frozen=True, gc=False):
    """What one attempt takes from one node: per NUMA node CPU/memory, and GPUs."""

    numa: tuple[tuple[int, int, int], ...]  # (numa id, millicores, memory bytes)
    gpus: tuple[int, ...]  # positions in NodeView.gpus
    gpu_memory: int  # per GPU
    exclusive_gpu: bool


class Reservation(msgspec.Struct, frozen=True, gc=False):
    key: str  # "job_id/attempt"
    node_id: str
    take: Take
    resources: Resources


class Fit(msgspec.Struct, frozen=True, gc=False):
    take: Take
    single_numa: bool
    gpus_local: int  # chosen GPUs on the NUMA node of the CPUs (single-NUMA fits only)
    gpu_slack: int  # free GPU memory left on the chosen GPUs after placing


class Placed(msgspec.Struct, frozen=True, gc=False):
    node_id: str
    fit: Fit
    score: float


class RunningJob(msgspec.Struct, frozen=True, gc=False):
    key: str  # "job_id/attempt"
    tenant: str
    node_id: str
    priority: int
    preemptible: bool
    take: Take
    rate: float  # resource units per second, the cost of evicting it


class Assign(msgspec.Struct, frozen=True):
    job: PendingJob
    node_id: str
    placement: Placement


class Preempt(msgspec.Struct, frozen=True):
    job: PendingJob  # stays pending; it is placed once the victims are gone
    node_id: str
    victims: tuple[str, ...]


class CycleResult(msgspec.Struct):
    assignments: list[Assign] = []
    preemptions: list[Preempt] = []
    waiting: int = 0
