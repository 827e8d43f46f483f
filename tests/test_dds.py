"""The control plane over real DDS: separate processes, loopback only, typed topics."""
from __future__ import annotations

import re
import time
from pathlib import Path

import msgspec
import pytest
from cyclonedds.pub import DataWriter

from control_plane.config import DdsConfig
from control_plane.envelope import Envelope
from control_plane.errors import DdsConfigError
from control_plane.participant import create_participant
from control_plane.probe import measure_round_trips, spawn_echo
from control_plane.qos import heartbeat_qos, state_qos
from control_plane.topics import StructTopic
from engine.model import AdmissionState, NodeStatus


def wait_for(predicate, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail("condition not met in time")


def test_two_processes_exchange_samples_over_loopback(dds_domain, tmp_path):
    config = DdsConfig(domain_id=dds_domain, trace_file=str(tmp_path / "dds.log"))
    echo = spawn_echo(config, seconds=60)
    try:
        result = measure_round_trips(config, count=50, timeout_s=60)
    finally:
        echo.terminate()
        echo.wait(10)
    assert result.round_trips == 50 and result.lost == 0
    assert result.responder == f"echo-{echo.pid}"  # the answer came from the other process
    for trace in (tmp_path / "dds.log", tmp_path / "dds.log.echo"):
        assert_loopback_only(trace)


def assert_loopback_only(trace: Path) -> None:
    """Cyclone's own trace: only `lo` selected, multicast off, every locator it uses on 127/8."""
    text = trace.read_text()
    assert "selected interfaces: lo " in text
    assert "Domain/General/AllowMulticast/#text: false" in text
    used = [
        line for line in text.splitlines()
        # Skip lines that only describe configuration or enumerate the host's interfaces.
        if "udp/" in line and not re.search(r"config: |interfaces: |(SPDP|default) MC: ", line)
    ]
    assert used, "the trace recorded no locators at all"
    addresses = {m for line in used for m in re.findall(r"udp/([0-9.]+)", line)}
    assert addresses and all(a.startswith("127.") for a in addresses), addresses


def test_state_reaches_a_late_joining_reader(dds_domain):
    participant = create_participant(DdsConfig(domain_id=dds_domain))
    topic = StructTopic(participant, "test.admission", AdmissionState, lambda s: "cluster", state_qos())
    writer = topic.writer()
    for depth in (5, 9):
        writer.write(AdmissionState(leader="n1", epoch=2, at_ms=1, queue_depth=depth))
    reader = topic.reader()  # joins after both writes
    samples = wait_for(reader.take)
    assert [s.value.queue_depth for s in samples] == [9]  # keep-last 1: only the current value


def test_undecodable_samples_are_dropped_and_counted(dds_domain):
    participant = create_participant(DdsConfig(domain_id=dds_domain))
    topic = StructTopic(participant, "test.nodes", NodeStatus, lambda s: s.node_id, state_qos())
    reader = topic.reader()
    raw = DataWriter(participant, topic.topic, topic.qos)
    raw.write(Envelope(key="evil", body=b"\xc1not msgpack"))
    raw.write(Envelope(key="bad", body=msgspec.msgpack.encode({"node_id": "BAD ID!"})))
    topic.writer().write(NodeStatus(node_id="good"))
    seen = []
    wait_for(lambda: seen.extend(reader.take()) or len(seen) + reader.undecodable >= 3)
    assert [s.value.node_id for s in seen] == ["good"]
    assert reader.undecodable == 2


def test_heartbeat_writer_leaving_is_seen_as_not_alive(dds_domain):
    participant = create_participant(DdsConfig(domain_id=dds_domain))
    topic = StructTopic(participant, "test.heartbeat", NodeStatus, lambda s: s.node_id, heartbeat_qos(0.5))
    reader = topic.reader()
    writer = topic.writer()
    writer.write(NodeStatus(node_id="n1"))
    assert wait_for(reader.take)[0].alive
    writer.dispose("n1")
    gone = wait_for(reader.take)
    assert gone[0].key == "n1" and not gone[0].alive and gone[0].value is None


def test_one_domain_one_configuration_per_process(dds_domain):
    create_participant(DdsConfig(domain_id=dds_domain))
    with pytest.raises(DdsConfigError, match="another configuration"):
        create_participant(DdsConfig(domain_id=dds_domain, max_participants=5))


def test_explicit_uri_mode_is_opt_in():
    with pytest.raises(ValueError, match="mode='uri' needs uri"):
        DdsConfig(mode="uri")
    assert "127.0.0.1" in DdsConfig().cyclone_config()
    assert "<AllowMulticast>false</AllowMulticast>" in DdsConfig().cyclone_config()
