"""Configuration of the local single-node KRaft broker, and its server.properties (pure)."""
from __future__ import annotations

import base64
import socket
import uuid
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

LOOPBACK = "127.0.0.1"
Port = Annotated[int, Meta(ge=0, le=65535)]  # 0: pick a free one at start


class BrokerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How to run the local broker. Defaults suit development and tests on one host."""

    data_dir: str
    port: Port = 0
    controller_port: Port = 0
    heap: str = "1g"
    ready_timeout_s: Annotated[float, Meta(gt=0)] = 90.0
    stop_timeout_s: Annotated[float, Meta(gt=0)] = 20.0
    partitions: Annotated[int, Meta(ge=1)] = 3
    jars_cache: str | None = None  # default: ~/.cache/sluice/kafka-jars

    @property
    def path(self) -> Path:
        return Path(self.data_dir)


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def new_cluster_id() -> str:
    """22 characters of url-safe base64 of a random UUID, as KRaft storage expects."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def render_properties(*, port: int, controller_port: int, log_dir: Path, partitions: int) -> str:
    """server.properties for one combined broker+controller bound to loopback only."""
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "controller.listener.names": "CONTROLLER",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": str(partitions),
        "auto.create.topics.enable": "false",
        # A single node: every internal topic has one replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Small internals: quick to start on two cores.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.cleaner.dedupe.buffer.size": "16777216",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())
