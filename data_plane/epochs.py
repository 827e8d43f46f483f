"""Leader epochs persisted in Kafka, claimed under the scheduler's transactional id.

``claim`` fences every older holder of the transactional id (their later
transactions fail), reads the last committed epoch from the compacted epochs
topic, and commits epoch + 1 in a transaction. Two racing claimers cannot both
succeed with the same epoch: the later ``init_transactions`` fences the earlier
one before its commit, or it reads the earlier one's epoch and goes higher.
Epochs therefore grow across leader changes and full cluster restarts, with no
store beyond Kafka.
"""
from __future__ import annotations

import time
import uuid

import msgspec
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

from data_plane.clients import consumer_config, transactional_producer_config
from data_plane.errors import DataPlaneError

EPOCH_KEY = b"leader"
CHECK_KEY = b"leader-check"  # compacted away; proves the holder is not fenced


class EpochRecord(msgspec.Struct, frozen=True):
    node: str
    epoch: int
    at_ms: int


class Fenced(DataPlaneError):
    """A newer leader claimed the scheduler's transactional id: this one must stop acting."""


class KafkaEpochStore:
    def __init__(self, bootstrap: str, topic: str, transactional_id: str, node: str, timeout_s: float = 10.0) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.transactional_id = transactional_id
        self.node = node
        self.timeout_s = timeout_s
        # Both kept warm while following, so a claim costs init + read-to-end + commit, nothing more.
        # Creating a transactional producer does not fence anyone; init_transactions does.
        self._producer: Producer | None = None
        self._spare: Producer | None = None
        self._consumer: Consumer | None = None
        self._last: EpochRecord | None = None

    def warm(self) -> None:
        """Prepare a producer and a consumer positioned on the epochs partition (blocking)."""
        if self._spare is None:
            self._spare = Producer(transactional_producer_config(self.bootstrap, self.transactional_id))
        self.last_epoch()

    def last_epoch(self) -> EpochRecord | None:
        """The last committed epoch record (read_committed), or None on a fresh cluster."""
        if self._consumer is None:
            # A short fetch wait: a fetch parked at the broker is not woken when a transaction commit
            # moves the stable offset, and the default (500 ms) would then sit in every claim.
            self._consumer = Consumer(consumer_config(self.bootstrap, f"sluice-epochs-{uuid.uuid4().hex}",
                                                      **{"enable.auto.commit": False, "fetch.wait.max.ms": 10}))
            self._consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        consumer = self._consumer
        partition = TopicPartition(self.topic, 0)
        deadline = time.monotonic() + self.timeout_s
        low, high = _watermarks(consumer, partition, deadline)
        while time.monotonic() < deadline:
            position = consumer.position([partition])[0].offset
            if (position if position >= 0 else low) >= high:  # no fetch yet: the position is invalid
                return self._last
            msg = consumer.poll(0.02)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise DataPlaneError(f"reading epochs: {msg.error()}")
            if msg.key() == EPOCH_KEY:
                self._last = msgspec.msgpack.decode(msg.value(), type=EpochRecord)
        raise DataPlaneError(f"reading the epochs topic {self.topic} timed out")

    def claim(self) -> int:
        """Fence older leaders, then commit and return the next epoch; raises Fenced if we lost a race."""
        producer = self._spare or Producer(transactional_producer_config(self.bootstrap, self.transactional_id))
        self._spare = None
        try:
            producer.init_transactions(self.timeout_s)
            last = self.last_epoch()
            epoch = (last.epoch if last else 0) + 1
            producer.begin_transaction()
            record = EpochRecord(self.node, epoch, int(time.time() * 1000))
            producer.produce(self.topic, msgspec.msgpack.encode(record), key=EPOCH_KEY, partition=0)
            producer.commit_transaction(self.timeout_s)
        except KafkaException as err:
            if _is_fenced(err):
                raise Fenced(f"{self.node} was fenced while claiming an epoch") from err
            raise DataPlaneError(f"claiming a leader epoch failed: {err}") from err
        self._producer = producer
        return epoch

    def check(self, epoch: int) -> None:
        """Prove we still hold the transactional id by committing a tiny record; raises Fenced if not.

        (An empty transaction would not reach the transaction coordinator, so it proves nothing.)
        """
        if self._producer is None:
            raise Fenced(f"{self.node} holds no epoch")
        try:
            self._producer.begin_transaction()
            record = EpochRecord(self.node, epoch, int(time.time() * 1000))
            self._producer.produce(self.topic, msgspec.msgpack.encode(record), key=CHECK_KEY, partition=0)
            self._producer.commit_transaction(self.timeout_s)
        except KafkaException as err:
            self._producer = None
            if _is_fenced(err):
                raise Fenced(f"{self.node} was fenced by a newer leader") from err
            raise DataPlaneError(f"leadership check failed: {err}") from err

    def release(self) -> None:
        self._producer = None  # a used transactional producer is not reused: the next claim starts fresh


def _watermarks(consumer: Consumer, partition: TopicPartition, deadline: float) -> tuple[int, int]:
    """The partition's (low, high) offsets, retrying while leadership metadata settles (new topics)."""
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=max(deadline - time.monotonic(), 0.1),
                                                  cached=False)
        except KafkaException as err:
            if not err.args[0].retriable() and err.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION \
                    or time.monotonic() > deadline:
                raise DataPlaneError(f"reading the epochs topic end offset: {err}") from err
            time.sleep(0.05)


def _is_fenced(err: KafkaException) -> bool:
    error = err.args[0]
    return error.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH) \
        or error.fatal()
