"""Sluice's Kafka topics: their names, layouts and configs, created idempotently.

| topic | key | holds |
| --- | --- | --- |
| ``<prefix>.jobs`` | job id | submitted JobSpecs (the ingress queue) |
| ``<prefix>.assignments`` | node id | Assignments, read by the node they name |
| ``<prefix>.events`` | job id | the job event log, source of truth for job state |
| ``<prefix>.dead-letters`` | job id | payloads and jobs that could not be processed, with the reason |
| ``<prefix>.leader-epochs`` | constant | the leader epoch, compacted: survives a full restart |
"""
from __future__ import annotations

import time
from typing import Annotated

import msgspec
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
from msgspec import Meta

from data_plane.clients import admin_config
from data_plane.errors import TopicError

_WEEK_MS = 7 * 24 * 3600 * 1000
_MAX_MESSAGE_BYTES = 2 * 1024 * 1024  # a 1 MiB job payload plus headers and batch overhead


class TopicSpec(msgspec.Struct, frozen=True):
    name: str
    partitions: Annotated[int, Meta(ge=1)]
    config: dict[str, str] = {}


class SluiceTopics(msgspec.Struct, frozen=True, kw_only=True):
    """The topic names of one Sluice cluster; ``prefix`` keeps clusters (and tests) apart."""

    prefix: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,120}$")] = "sluice"

    @property
    def jobs(self) -> str:
        return f"{self.prefix}.jobs"

    @property
    def assignments(self) -> str:
        return f"{self.prefix}.assignments"

    @property
    def events(self) -> str:
        return f"{self.prefix}.events"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}.dead-letters"

    @property
    def leader_epochs(self) -> str:
        return f"{self.prefix}.leader-epochs"

    def specs(self, partitions: int = 6) -> list[TopicSpec]:
        durable = {"retention.ms": str(_WEEK_MS), "max.message.bytes": str(_MAX_MESSAGE_BYTES)}
        return [
            TopicSpec(self.jobs, partitions, durable),
            TopicSpec(self.assignments, partitions, durable),
            TopicSpec(self.events, partitions, durable),
            TopicSpec(self.dead_letters, 1, {**durable, "retention.ms": str(4 * _WEEK_MS)}),
            TopicSpec(self.leader_epochs, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        ]


def ensure_topics(
    bootstrap: str, specs: list[TopicSpec], *, replication_factor: int = 1, timeout_s: float = 30.0
) -> list[str]:
    """Create the topics that are missing; return the names created.

    Existing topics are left as they are when their partition count matches, and
    are an error when it does not (keys would map to other partitions).
    """
    admin = AdminClient(admin_config(bootstrap))
    existing = _partition_counts(admin, timeout_s)
    for spec in specs:
        have = existing.get(spec.name)
        if have is not None and have != spec.partitions:
            raise TopicError(f"topic {spec.name} exists with {have} partitions, Sluice expects {spec.partitions}")
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(s.name, num_partitions=s.partitions, replication_factor=replication_factor, config=s.config)
         for s in missing],
        operation_timeout=timeout_s,
        request_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # a concurrent creator won
                raise TopicError(f"could not create topic {name}: {err.args[0].str()}") from err
    _wait_visible(admin, [s.name for s in missing], timeout_s)
    return sorted(created)


def _partition_counts(admin: AdminClient, timeout_s: float) -> dict[str, int]:
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as err:
        raise TopicError(f"could not list topics: {err}") from err
    return {name: len(t.partitions) for name, t in metadata.topics.items()}


def _wait_visible(admin: AdminClient, names: list[str], timeout_s: float) -> None:
    """Creation returns before every partition has a leader; clients need both."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=timeout_s)
        ready = [
            n for n in names
            if n in metadata.topics and metadata.topics[n].error is None
            and all(p.leader >= 0 for p in metadata.topics[n].partitions.values())
        ]
        if len(ready) == len(names):
            return
        time.sleep(0.05)
    raise TopicError(f"topics {sorted(names)} did not get partition leaders within {timeout_s:.0f}s")
