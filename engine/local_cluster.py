"""The embedded default: a local Kafka broker and DDS on 127.0.0.1, proven by round trips.

``sluice up`` drives this. Each step reports progress and either succeeds or
raises an error that says what failed; on exit everything it started is stopped.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from control_plane import probe as dds_probe
from control_plane.config import DdsConfig
from control_plane.messages import LeaderTerm
from control_plane.observe import observe
from data_plane import probe as kafka_probe
from data_plane.broker import BrokerConfig, BrokerInfo, LocalBroker, running_broker
from data_plane.errors import BrokerNotRunning
from data_plane.topics import SluiceTopics, ensure_topics


class LocalClusterReport(msgspec.Struct, frozen=True):
    bootstrap: str
    broker_reused: bool
    broker_ready_s: float
    topics_created: list[str]
    kafka_round_trip: kafka_probe.RoundTripResult
    dds_round_trip: dds_probe.ProbeResult
    dds_domain: int
    coordinators: list[str] = []
    leader: str | None = None
    leader_epoch: int | None = None


@contextlib.contextmanager
def local_broker(data_dir: Path, port: int, progress: Callable[[str], None]) -> Iterator[tuple[BrokerInfo, bool]]:
    """Reuse the broker already running for ``data_dir``, else start one that dies with us."""
    try:
        info = running_broker(data_dir)
        progress(f"reusing the Kafka broker at {info.bootstrap} (pid {info.pid})")
        yield info, True
        return
    except BrokerNotRunning:
        pass
    with LocalBroker(BrokerConfig(data_dir=str(data_dir), port=port), progress=progress) as broker:
        assert broker.info is not None
        yield broker.info, False


def prove(bootstrap: str, topics: SluiceTopics, dds: DdsConfig, progress: Callable[[str], None]) -> tuple:
    """Create Sluice's topics, then time a Kafka round trip and a DDS round trip to another process."""
    created = ensure_topics(bootstrap, topics.specs())
    progress(f"topics ready ({len(created)} created)")
    kafka = kafka_probe.measure_round_trips(bootstrap, topics.jobs, count=20)
    progress(f"Kafka round trip p50 {kafka.p50_ms:.1f} ms")
    echo = dds_probe.spawn_echo(dds, seconds=30)
    try:
        dds_result = dds_probe.measure_round_trips(dds, count=50)
    finally:
        echo.terminate()
        echo.wait(10)
    progress(f"DDS round trip to pid {echo.pid} p50 {dds_result.p50_us:.0f} us")
    return created, kafka, dds_result


@contextlib.contextmanager
def coordinators(count: int, bootstrap: str, dds: DdsConfig, progress: Callable[[str], None],
                 timeout_s: float = 60.0) -> Iterator[tuple[list[str], LeaderTerm]]:
    """Start ``count`` coordinator processes (node-1..N) and wait until they elect a leader."""
    nodes = [f"node-{i}" for i in range(1, count + 1)]
    procs = [subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "coordinator",
                               "--node-id", node, "--bootstrap", bootstrap, "--domain", str(dds.domain_id)],
                              stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL) for node in nodes]
    try:
        progress(f"started {count} coordinators; waiting for a leader")
        deadline = time.monotonic() + timeout_s
        while True:
            view = observe(dds, wait_s=1.0, until_leader=True)
            if view.leader is not None and len(view.nodes.nodes) >= count:
                break
            dead = [n for n, p in zip(nodes, procs) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise TimeoutError(f"coordinators did not elect a leader (exited: {dead or 'none'})")
        progress(f"leader {view.leader.node} (epoch {view.leader.epoch})")
        yield nodes, view.leader
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(data_dir: Path, port: int, dds: DdsConfig, progress: Callable[[str], None],
        hold: Callable[[LocalClusterReport], None], coordinator_count: int = 3) -> LocalClusterReport:
    """Bring the local cluster up, prove it, hand the report to ``hold`` (which may block), tear down."""
    started = time.monotonic()
    with local_broker(data_dir, port, progress) as (info, reused):
        ready_s = round(time.monotonic() - started, 2)
        created, kafka, dds_result = prove(info.bootstrap, SluiceTopics(), dds, progress)
        with coordinators(coordinator_count, info.bootstrap, dds, progress) as (nodes, leader):
            report = LocalClusterReport(info.bootstrap, reused, ready_s, created, kafka, dds_result, dds.domain_id,
                                        nodes, leader.node, leader.epoch)
            hold(report)
    return report
