"""The job model: msgspec Structs shared by every plane, with no I/O.

Import from here; the submodules are an implementation detail.
"""
from engine.model.admission import AdmissionState, TenantAdmission
from engine.model.codec import convert_input, decode_input, decode_wire, encode_input, encode_wire
from engine.model.errors import InvalidInput, PayloadTooLarge
from engine.model.events import (
    TERMINAL_STATES,
    Assignment,
    JobAssigned,
    JobCancelRequested,
    JobDeadLettered,
    JobEvent,
    JobFinished,
    JobRetryScheduled,
    JobStarted,
    JobState,
    JobSubmitted,
    Placement,
    ResourceUsage,
)
from engine.model.ids import job_id_time_ms, new_job_id
from engine.model.job import Backoff, JobSpec, NumaPolicy, Resources
from engine.model.node import GpuDevice, NodeStatus, NumaNodeCapacity

__all__ = [
    "AdmissionState",
    "Assignment",
    "Backoff",
    "GpuDevice",
    "InvalidInput",
    "JobAssigned",
    "JobCancelRequested",
    "JobDeadLettered",
    "JobEvent",
    "JobFinished",
    "JobRetryScheduled",
    "JobSpec",
    "JobStarted",
    "JobState",
    "JobSubmitted",
    "NodeStatus",
    "NumaNodeCapacity",
    "NumaPolicy",
    "PayloadTooLarge",
    "Placement",
    "Resources",
    "ResourceUsage",
    "TERMINAL_STATES",
    "TenantAdmission",
    "convert_input",
    "decode_input",
    "decode_wire",
    "encode_input",
    "encode_wire",
    "job_id_time_ms",
    "new_job_id",
]
