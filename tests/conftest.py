"""Shared fixtures: one real Kafka broker per test session, unique names per test."""
from __future__ import annotations

import itertools
import os
import uuid

import pytest

from data_plane.broker import BrokerConfig, LocalBroker
from data_plane.topics import SluiceTopics, TopicSpec, ensure_topics

_domains = itertools.count(100 + (os.getpid() % 50) * 2)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bootstrap address of a real single-node KRaft broker on 127.0.0.1."""
    broker = LocalBroker(BrokerConfig(data_dir=str(tmp_path_factory.mktemp("kafka")), ready_timeout_s=120))
    broker.start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def topics(kafka: str) -> SluiceTopics:
    """Sluice's topics under a prefix unique to this test, created on the session broker."""
    names = SluiceTopics(prefix=f"t-{uuid.uuid4().hex[:12]}")
    ensure_topics(kafka, names.specs(partitions=3))
    return names


@pytest.fixture
def topic(kafka: str) -> str:
    """One fresh single-partition topic."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    ensure_topics(kafka, [TopicSpec(name, 1)])
    return name


@pytest.fixture
def dds_domain() -> int:
    """A DDS domain id no other test in this run uses, so samples never cross tests."""
    return next(_domains)
