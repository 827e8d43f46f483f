"""`sluice kafka start|stop|status`: the local development broker."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from data_plane.broker import BrokerConfig, LocalBroker, running_broker, stop_running_broker
from data_plane.clients import probe_cluster
from engine import paths
from engine.cli.output import emit, progress, wait_for_interrupt

app = typer.Typer(help="Run a local single-node Kafka broker (KRaft) on 127.0.0.1.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option(help="Broker data directory [default: $SLUICE_HOME/kafka]")]


@app.command()
def start(
    data_dir: DataDir = None,
    port: Annotated[int, typer.Option(help="Client port on 127.0.0.1 (0 picks a free one)")] = 9092,
    foreground: Annotated[bool, typer.Option(help="Stay attached; Ctrl-C stops the broker")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Start the broker and wait until it answers an admin round trip."""
    config = BrokerConfig(data_dir=str(data_dir or paths.kafka_data_dir()), port=port)
    started = time.monotonic()
    broker = LocalBroker(config, progress=progress).start(detach=not foreground)
    info = broker.info
    assert info is not None
    emit({**msgspec.structs.asdict(info), "bootstrap": info.bootstrap,
          "ready_s": round(time.monotonic() - started, 2)},
         as_json=json, text=f"Kafka ready at {info.bootstrap} (pid {info.pid}, data {info.data_dir})")
    if foreground:
        wait_for_interrupt()
        broker.stop()


@app.command()
def stop(data_dir: DataDir = None) -> None:
    """Stop the broker started with `sluice kafka start`."""
    info = stop_running_broker(data_dir or paths.kafka_data_dir())
    print(f"Kafka stopped (pid {info.pid}, {info.bootstrap})")


@app.command()
def status(
    data_dir: DataDir = None,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Say whether the broker runs and answers; exit code 3 when it does not run."""
    info = running_broker(data_dir or paths.kafka_data_dir())
    cluster = probe_cluster(info.bootstrap)
    emit({"running": True, "pid": info.pid, "bootstrap": info.bootstrap, "cluster_id": cluster.cluster_id,
          "topics": cluster.topics, "round_trip_ms": cluster.round_trip_ms},
         as_json=json,
         text=f"Kafka running at {info.bootstrap} (pid {info.pid}), {cluster.topics} topics, "
              f"admin round trip {cluster.round_trip_ms:.1f} ms")
