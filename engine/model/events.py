"""What happens to a job: assignments and the lifecycle events of the job log.

Internal wire types: unknown fields are tolerated (mixed versions interoperate),
new fields are added only with defaults. Every event names the attempt and the
leader epoch it belongs to, so a stale attempt or a deposed leader's write can be
recognised and ignored.
"""
from __future__ import annotations

import enum
from typing import Annotated, Union

import msgspec
from msgspec import Meta

from engine.model.job import JobId, JobSpec, Name

Attempt = Annotated[int, Meta(ge=1)]
Epoch = Annotated[int, Meta(ge=0)]
NodeId = Name


class JobState(enum.Enum):
    """The state a job is in, as the job log records it."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    RUNNING = "running"
    RETRY_WAIT = "retry_wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED, JobState.DEAD_LETTERED}
)


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """Where on a node an attempt runs: CPUs/memory on NUMA nodes and GPUs by uuid."""

    numa_nodes: list[Annotated[int, Meta(ge=0)]] = []
    cpus: list[Annotated[int, Meta(ge=0)]] = []
    gpu_uuids: list[str] = []


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """The leader's order to one node: run this attempt of this job, here."""

    job: JobSpec
    attempt: Attempt
    epoch: Epoch
    node_id: NodeId
    placement: Placement = Placement()
    assigned_at_ms: int = 0


class ResourceUsage(msgspec.Struct, frozen=True, kw_only=True):
    """What an attempt consumed, as the sandbox accounted it."""

    wall_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    peak_memory_bytes: int = 0
    peak_gpu_memory_bytes: int = 0


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    job_id: JobId
    attempt: Annotated[int, Meta(ge=0)]  # 0 only before the first assignment
    epoch: Epoch
    at_ms: int


class JobSubmitted(_Event, tag="submitted"):
    tenant: Name


class JobAssigned(_Event, tag="assigned"):
    node_id: NodeId


class JobStarted(_Event, tag="started"):
    node_id: NodeId


class JobFinished(_Event, tag="finished"):
    """A terminal outcome of one attempt (the job may still be retried)."""

    node_id: NodeId
    state: JobState
    reason: str = ""
    exit_code: int | None = None
    usage: ResourceUsage = ResourceUsage()
    output_ref: str = ""

    def __post_init__(self) -> None:
        if not self.state.terminal or self.state is JobState.DEAD_LETTERED:
            raise ValueError(f"an attempt cannot finish as {self.state.value}")


class JobRetryScheduled(_Event, tag="retry_scheduled"):
    not_before_ms: int
    reason: str = ""


class JobCancelRequested(_Event, tag="cancel_requested"):
    requested_by: str = ""


class JobDeadLettered(_Event, tag="dead_lettered"):
    reason: str


JobEvent = Union[
    JobSubmitted,
    JobAssigned,
    JobStarted,
    JobFinished,
    JobRetryScheduled,
    JobCancelRequested,
    JobDeadLettered,
]
