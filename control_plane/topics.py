"""Typed DDS topics that carry the job model's msgspec Structs.

Every Sluice topic has one DDS type, a keyed envelope: ``key`` names the DDS
instance (a node id, a tenant, "leader") and ``body`` holds the msgpack encoding
of a model Struct. The model stays the single definition of each message (no
second copy in IDL), unknown fields from newer peers are tolerated by the model's
wire decoder, and DDS keeps doing per-key history, liveliness and disposal.

A sample that does not decode is dropped and counted, never raised into a reader
loop: one bad peer must not stop the others from being heard.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cyclonedds.core import InstanceState, Listener, ReadCondition, SampleState, ViewState, WaitSet
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.qos import Qos
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from control_plane.envelope import Envelope
from engine.model import InvalidInput, decode_wire, encode_wire

T = TypeVar("T")


@dataclass(frozen=True)
class Received(Generic[T]):
    """One sample: the decoded value, or ``None`` when the instance was disposed or lost its writers."""

    key: str
    value: T | None
    alive: bool
    source_timestamp_ns: int


class StructTopic(Generic[T]):
    """A DDS topic whose samples are ``struct_type`` values keyed by ``key_of(value)``."""

    def __init__(
        self,
        participant: DomainParticipant,
        name: str,
        struct_type: type[T],
        key_of: Callable[[T], str],
        qos: Qos,
        reader_qos: Qos | None = None,
    ) -> None:
        self.name = name
        self.struct_type = struct_type
        self.key_of = key_of
        self.qos = qos
        self.reader_qos = reader_qos or qos
        self.participant = participant
        self.topic = Topic(participant, name, Envelope, qos=qos)

    def writer(self, listener: Listener | None = None) -> StructWriter[T]:
        return StructWriter(self, DataWriter(self.participant, self.topic, self.qos, listener=listener))

    def reader(self, listener: Listener | None = None) -> StructReader[T]:
        return StructReader(self, DataReader(self.participant, self.topic, self.reader_qos, listener=listener))


class StructWriter(Generic[T]):
    def __init__(self, topic: StructTopic[T], writer: DataWriter) -> None:
        self.topic = topic
        self.dds = writer

    def write(self, value: T) -> None:
        self.dds.write(Envelope(key=self.topic.key_of(value), body=encode_wire(value)))

    def dispose(self, key_value: str) -> None:
        """Announce that the instance ``key_value`` is gone (a node leaving, say)."""
        self.dds.dispose(Envelope(key=key_value, body=b""))


class StructReader(Generic[T]):
    def __init__(self, topic: StructTopic[T], reader: DataReader) -> None:
        self.topic = topic
        self.dds = reader
        self.undecodable = 0  # samples dropped because their body did not decode
        self._waitset: WaitSet | None = None

    def wait(self, timeout_s: float) -> bool:
        """Block until a sample not yet read arrives (True) or ``timeout_s`` passes (False)."""
        if self._waitset is None:
            self._waitset = WaitSet(self.topic.participant)
            mask = SampleState.NotRead | ViewState.Any | InstanceState.Any
            self._waitset.attach(ReadCondition(self.dds, mask))
        return self._waitset.wait(duration(seconds=timeout_s)) > 0

    def take(self, max_samples: int = 256) -> list[Received[T]]:
        """Everything waiting, oldest first, without blocking."""
        return self._decode(self.dds.take(max_samples))

    def read(self, max_samples: int = 256) -> list[Received[T]]:
        """Like take, but the samples stay in the reader cache (latest value per key)."""
        return self._decode(self.dds.read(max_samples))

    def _decode(self, samples: list) -> list[Received[T]]:
        out: list[Received[T]] = []
        for sample in samples:
            info = sample.sample_info
            alive = info.instance_state == InstanceState.Alive
            if not info.valid_data:
                out.append(Received(sample.key_sample.key, None, alive, info.source_timestamp))
                continue
            try:
                value = decode_wire(bytes(sample.body), self.topic.struct_type)
            except InvalidInput:
                self.undecodable += 1
                continue
            out.append(Received(sample.key, value, alive, info.source_timestamp))
        return out
