"""A Kafka round-trip probe: produce (idempotent, acks=all), read back (read_committed).

Used by ``sluice up`` to prove the data plane works and by the round-trip
benchmark. The consumer is assigned the partition directly (no group rebalance)
and positioned at its end before each message, so each round trip measures
produce + replicate-ack + fetch, not consumer start-up.
"""
from __future__ import annotations

import statistics
import time

import msgspec
from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from data_plane.clients import consumer_config, producer_config
from data_plane.errors import DataPlaneError


class RoundTripResult(msgspec.Struct, frozen=True):
    round_trips: int
    p50_ms: float
    p99_ms: float
    first_ms: float  # the first message, including client connection set-up


def measure_round_trips(bootstrap: str, topic: str, count: int = 50, timeout_s: float = 30.0) -> RoundTripResult:
    """Send ``count`` small messages to partition 0 of ``topic`` one at a time and time each back."""
    producer = Producer(producer_config(bootstrap, **{"linger.ms": 0}))
    consumer = Consumer(consumer_config(bootstrap, f"sluice-probe-{time.time_ns()}",
                                        **{"fetch.wait.max.ms": 5, "enable.auto.commit": False}))
    deadline = time.monotonic() + timeout_s
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_END)])
        latencies = []
        for seq in range(count):
            payload = f"probe-{seq}-{time.time_ns()}".encode()
            started = time.perf_counter()
            _produce_acked(producer, topic, payload, deadline)
            _consume_until(consumer, payload, deadline)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        consumer.close()
    first, warm = latencies[0], latencies[1:] or latencies
    q = statistics.quantiles(warm, n=100, method="inclusive") if len(warm) > 1 else warm * 99
    return RoundTripResult(count, round(statistics.median(warm), 3), round(q[98], 3), round(first, 3))


def _produce_acked(producer: Producer, topic: str, payload: bytes, deadline: float) -> None:
    errors: list[str] = []
    producer.produce(topic, payload, partition=0, on_delivery=lambda err, _msg: err and errors.append(str(err)))
    remaining = producer.flush(max(deadline - time.monotonic(), 0.0))
    if errors or remaining:
        raise DataPlaneError(f"Kafka did not acknowledge a probe message: {errors or 'timed out'}")


def _consume_until(consumer: Consumer, payload: bytes, deadline: float) -> None:
    while time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            raise DataPlaneError(f"probe consumer failed: {msg.error()}")
        if msg.value() == payload:
            return
    raise DataPlaneError("the probe message did not come back before the deadline")


