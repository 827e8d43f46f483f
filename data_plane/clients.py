"""Kafka client configurations, one builder per role, and a cluster probe.

Every producer is idempotent with acks=all; every consumer reads committed data
only and stores offsets explicitly after the work is recorded (at-least-once).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from data_plane.errors import BrokerError

# librdkafka's own log lines (transient retries during broker start-up, say) go to
# Python logging, where the application decides what to show, not raw to stderr.
CLIENT_LOGGER = logging.getLogger("sluice.kafka.client")


def _base(bootstrap: str) -> dict[str, Any]:
    return {"bootstrap.servers": bootstrap, "logger": CLIENT_LOGGER}


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """An idempotent, acks=all producer: an acknowledged message is durable and not duplicated."""
    return {
        **_base(bootstrap),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "compression.type": "lz4",
        **overrides,
    }


def transactional_producer_config(bootstrap: str, transactional_id: str, **overrides: Any) -> dict[str, Any]:
    """A transactional producer; a second one with the same id fences this one."""
    return producer_config(
        bootstrap, **{"transactional.id": transactional_id, "transaction.timeout.ms": 30_000, **overrides}
    )


def consumer_config(bootstrap: str, group_id: str, **overrides: Any) -> dict[str, Any]:
    """A read_committed consumer that stores offsets only when told to."""
    return {
        **_base(bootstrap),
        "group.id": group_id,
        "isolation.level": "read_committed",
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        **overrides,
    }


def admin_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    return {**_base(bootstrap), **overrides}


class ClusterInfo(msgspec.Struct, frozen=True):
    """What one metadata round trip saw."""

    bootstrap: str
    cluster_id: str | None
    brokers: list[str]
    topics: int
    round_trip_ms: float


def probe_cluster(bootstrap: str, timeout_s: float = 5.0) -> ClusterInfo:
    """One admin metadata round trip; raises BrokerError when the cluster does not answer."""
    admin = AdminClient(admin_config(bootstrap))
    started = time.perf_counter()
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as err:
        raise BrokerError(f"Kafka at {bootstrap} did not answer a metadata request: {err}") from err
    elapsed_ms = (time.perf_counter() - started) * 1000
    brokers = [f"{b.host}:{b.port}" for b in metadata.brokers.values()]
    if not brokers:
        raise BrokerError(f"Kafka at {bootstrap} answered but lists no brokers")
    return ClusterInfo(bootstrap, metadata.cluster_id, sorted(brokers), len(metadata.topics), round(elapsed_ms, 3))
