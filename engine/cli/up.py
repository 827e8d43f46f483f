"""`sluice up`: the embedded default local cluster on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from control_plane.config import DdsConfig
from engine import local_cluster, paths
from engine.cli.output import emit, progress, wait_for_interrupt


def up(
    once: Annotated[bool, typer.Option("--once", help="Prove the round trips, then stop")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Kafka data directory")] = None,
    port: Annotated[int, typer.Option(help="Kafka port on 127.0.0.1 (0 picks a free one)")] = 9092,
    domain: Annotated[int, typer.Option(help="DDS domain id")] = 0,
    coordinators: Annotated[int, typer.Option(help="Coordinator processes to run")] = 3,
    json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
) -> None:
    """Run a local cluster on 127.0.0.1: a Kafka broker and coordinators electing a leader over DDS."""

    def hold(report: local_cluster.LocalClusterReport) -> None:
        emit(report, as_json=json, text=(
            f"Sluice local cluster up: Kafka {report.bootstrap} "
            f"(round trip p50 {report.kafka_round_trip.p50_ms:.1f} ms, p99 {report.kafka_round_trip.p99_ms:.1f} ms), "
            f"DDS domain {report.dds_domain} on 127.0.0.1 "
            f"(round trip p50 {report.dds_round_trip.p50_us:.0f} us, p99 {report.dds_round_trip.p99_us:.0f} us); "
            f"{len(report.coordinators)} coordinators, leader {report.leader} (epoch {report.leader_epoch})"))
        if not once:
            progress("running; press Ctrl-C to stop")
            wait_for_interrupt()

    local_cluster.run(data_dir or paths.kafka_data_dir(), port, DdsConfig(domain_id=domain), progress, hold,
                      coordinators)
