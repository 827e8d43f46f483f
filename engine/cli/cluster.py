"""Cluster operations: run a coordinator, see the leader and nodes, drain and undrain."""
from __future__ import annotations

import time
import uuid
from typing import Annotated

import msgspec
import typer

from control_plane.config import DdsConfig
from control_plane.messages import DrainNode, UndrainNode
from control_plane.observe import observe, send_command
from engine.cli.output import emit
from engine.model import InvalidInput

Domain = Annotated[int, typer.Option(help="DDS domain id")]
Prefix = Annotated[str, typer.Option(help="Cluster name prefix (DDS and Kafka topics)")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object")]


def coordinator(
    node_id: Annotated[str, typer.Option("--node-id", help="This node's id (unique in the cluster)")],
    bootstrap: Annotated[str, typer.Option(help="Kafka bootstrap HOST:PORT")],
    domain: Domain = 0,
    prefix: Prefix = "sluice",
    lease: Annotated[float, typer.Option(help="Liveliness lease in seconds (failure detection time)")] = 0.2,
    pool: Annotated[str, typer.Option(help="Pool this node serves")] = "default",
    label: Annotated[list[str], typer.Option(help="Node label KEY=VALUE (repeatable)")] = [],  # noqa: B006
    topology: Annotated[str | None, typer.Option(help="Injected topology JSON instead of this host's")] = None,
) -> None:
    """Run a coordinator: heartbeat this node's capacity, take part in the election, lead when elected."""
    from engine.coordinator.config import CoordinatorConfig
    from engine.coordinator.node import run_coordinator

    labels = {}
    for item in label:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--label {item!r} must be KEY=VALUE")
        labels[key] = value
    try:
        config = CoordinatorConfig(node_id=node_id, bootstrap=bootstrap, domain_id=domain, prefix=prefix,
                                   lease_s=lease, pool=pool, labels=labels, topology_file=topology)
    except msgspec.ValidationError as err:
        raise InvalidInput(f"invalid coordinator setting: {err}") from err
    run_coordinator(config)


def leader(domain: Domain = 0, prefix: Prefix = "sluice", json: Json = False,
           wait: Annotated[float, typer.Option(help="Seconds to wait for the leader")] = 3.0) -> None:
    """Print the current leader and its epoch, as seen from the DDS domain."""
    view = observe(DdsConfig(domain_id=domain), prefix, wait_s=wait, until_leader=True)
    if view.leader is None:
        raise TimeoutError(f"no live leader seen in DDS domain {domain} within {wait:g}s")
    term = view.leader
    emit({"node": term.node, "epoch": term.epoch, "since_ms": term.since_ms}, as_json=json,
         text=f"{term.node} (epoch {term.epoch}, leading for {max(0, time.time() * 1000 - term.since_ms) / 1000:.1f}s)")


def nodes(domain: Domain = 0, prefix: Prefix = "sluice", json: Json = False,
          wait: Annotated[float, typer.Option(help="Seconds to listen")] = 1.5) -> None:
    """List the live nodes with their capacity."""
    view = observe(DdsConfig(domain_id=domain), prefix, wait_s=wait)
    statuses = [view.nodes.nodes[n] for n in view.nodes.node_ids]
    if json:
        print(msgspec.json.encode({"nodes": statuses, "leader": view.leader}).decode())
        return
    leader_node = view.leader.node if view.leader else None
    print(f"{'NODE':<16} {'POOL':<10} {'CPUS':>6} {'FREE':>6} {'MEMORY':>10} {'GPUS':>4}  STATE")
    for s in statuses:
        state = ",".join(x for x in ("leader" if s.node_id == leader_node else "", "draining" if s.draining else "")
                         if x) or "ready"
        print(f"{s.node_id:<16} {s.pool:<10} {s.total_millicores / 1000:>6.1f} {s.free_millicores / 1000:>6.1f} "
              f"{s.free_memory_bytes / (1 << 30):>8.1f}Gi {len(s.gpus):>4}  {state}")


def drain(node: Annotated[str, typer.Argument(help="Node to drain")], domain: Domain = 0,
          prefix: Prefix = "sluice") -> None:
    """Stop placing new jobs on NODE (running jobs finish)."""
    send_command(DdsConfig(domain_id=domain), DrainNode(id=uuid.uuid4().hex, node=node, issued_by="cli",
                                                         at_ms=int(time.time() * 1000)), prefix)
    print(f"drain sent to {node}")


def undrain(node: Annotated[str, typer.Argument(help="Node to undrain")], domain: Domain = 0,
            prefix: Prefix = "sluice") -> None:
    """Let NODE take new jobs again."""
    send_command(DdsConfig(domain_id=domain), UndrainNode(id=uuid.uuid4().hex, node=node, issued_by="cli",
                                                           at_ms=int(time.time() * 1000)), prefix)
    print(f"undrain sent to {node}")


def admission(domain: Domain = 0, prefix: Prefix = "sluice", json: Json = False,
              wait: Annotated[float, typer.Option(help="Seconds to listen")] = 2.0) -> None:
    """Print the admission state the leader publishes."""
    view = observe(DdsConfig(domain_id=domain), prefix, wait_s=wait)
    if view.admission is None:
        raise TimeoutError(f"no admission state seen in DDS domain {domain} within {wait:g}s")
    state = view.admission
    emit(state, as_json=json, text=f"leader {state.leader} (epoch {state.epoch}): queue depth {state.queue_depth}"
                                   f" / high watermark {state.high_watermark}")


def register(app: typer.Typer) -> None:
    for command in (coordinator, leader, nodes, drain, undrain, admission):
        app.command()(command)
