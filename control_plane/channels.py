"""The control plane's DDS topics, their keys and QoS, in one place."""
from __future__ import annotations

from cyclonedds.domain import DomainParticipant

from control_plane.messages import Command, JobStatus, LeaderTerm
from control_plane.qos import command_qos, heartbeat_qos, heartbeat_reader_qos, state_qos, status_stream_qos
from control_plane.topics import StructTopic
from engine.model import AdmissionState, NodeStatus


class ControlTopics:
    """Every Sluice control topic on one participant. ``lease_s`` is the liveliness lease of
    heartbeats and leader announcements: a silent writer is declared gone after it."""

    def __init__(self, participant: DomainParticipant, lease_s: float = 0.2, prefix: str = "sluice") -> None:
        self.lease_s = lease_s
        self.nodes = StructTopic(participant, f"{prefix}.nodes", NodeStatus, lambda s: s.node_id,
                                 heartbeat_qos(lease_s), heartbeat_reader_qos())
        # Keyed by node: each leader announces its own term; readers take the highest live epoch.
        self.leader = StructTopic(participant, f"{prefix}.leader", LeaderTerm, lambda t: t.node,
                                  heartbeat_qos(lease_s), heartbeat_reader_qos())
        self.admission = StructTopic(participant, f"{prefix}.admission", AdmissionState, lambda _s: "cluster",
                                     state_qos())
        self.commands = StructTopic(participant, f"{prefix}.commands", Command, lambda c: c.id, command_qos())
        self.job_status = StructTopic(participant, f"{prefix}.job-status", JobStatus,
                                      lambda s: f"{s.job_id}/{s.attempt}", status_stream_qos())
