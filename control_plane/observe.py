"""A read-only look at the DDS domain: live nodes, the live leader, the admission state.

Used by the CLI. Heartbeats and leader terms are TRANSIENT_LOCAL, so a fresh
observer receives the current values from live writers once discovery completes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from control_plane.channels import ControlTopics
from control_plane.config import DdsConfig
from control_plane.election import newest_live
from control_plane.membership import Membership, MembershipSnapshot
from control_plane.messages import Command, LeaderTerm
from control_plane.participant import create_participant
from engine.model import AdmissionState


@dataclass(frozen=True)
class ClusterView:
    nodes: MembershipSnapshot
    leader: LeaderTerm | None
    admission: AdmissionState | None


def observe(dds: DdsConfig, prefix: str = "sluice", wait_s: float = 1.5, until_leader: bool = False) -> ClusterView:
    """Listen for ``wait_s`` (or until a live leader is seen, with ``until_leader``)."""
    topics = ControlTopics(create_participant(dds), prefix=prefix)
    nodes, leaders, admission = topics.nodes.reader(), topics.leader.reader(), topics.admission.reader()
    membership = Membership()
    latest_admission: AdmissionState | None = None
    deadline = time.monotonic() + wait_s
    while True:
        membership.refresh(nodes.read())
        leader = newest_live(leaders.read())
        for sample in admission.take():
            if sample.value is not None:
                latest_admission = sample.value
        if (until_leader and leader is not None) or time.monotonic() >= deadline:
            return ClusterView(membership.snapshot(), leader, latest_admission)
        time.sleep(0.02)


def send_command(dds: DdsConfig, command: Command, prefix: str = "sluice", linger_s: float = 1.0) -> None:
    """Publish one command; linger so peers discovered meanwhile receive it (reliable, in order)."""
    writer = ControlTopics(create_participant(dds), prefix=prefix).commands.writer()
    deadline = time.monotonic() + linger_s
    while time.monotonic() < deadline and not writer.dds.get_matched_subscriptions():
        time.sleep(0.02)
    writer.write(command)
    time.sleep(min(0.2, linger_s))
