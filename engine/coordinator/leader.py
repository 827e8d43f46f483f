"""Leader duties, switched on and off in one place (``on_elected`` / ``on_revoked``).

While leading, every ``admission_s`` the leader proves it is not fenced (a
transactional write under the scheduler's transactional id) and only then acts:
it publishes AdmissionState. Each act re-checks the term first, so a leader that
was paused past its lease never acts on a stale term.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, TopicPartition

from control_plane.messages import LeaderTerm
from control_plane.topics import StructWriter
from data_plane.clients import consumer_config
from engine.model import AdmissionState


class LeaderDuties:
    def __init__(self, topics, store, bootstrap: str, jobs_topic: str, high_watermark: int,
                 act_every_s: float, proof_valid_s: float, log: Callable[..., None]) -> None:
        self.topics = topics
        self.store = store
        self.bootstrap = bootstrap
        self.jobs_topic = jobs_topic
        self.high_watermark = high_watermark
        self.act_every_s = act_every_s
        self.proof_valid_s = proof_valid_s  # a fencing proof older than this (a lease) proves nothing
        self.log = log
        self.term: LeaderTerm | None = None
        self._announcer: StructWriter[LeaderTerm] = topics.leader.writer()
        self._admission = topics.admission.writer()
        self._next_act = 0.0
        self._lag_consumer: Consumer | None = None

    @property
    def leading(self) -> bool:
        return self.term is not None

    def on_elected(self, term: LeaderTerm) -> None:
        self.term = term
        self._announcer.write(term)
        self._next_act = 0.0
        self.log("elected", epoch=term.epoch)

    def on_revoked(self, why: str) -> None:
        if self.term is None:
            return
        epoch = self.term.epoch
        self.term = None
        self.store.release()
        self._announcer.dispose(self.topics.leader.key_of(LeaderTerm(node=self.log.node, epoch=epoch)))
        self.log("stepped_down", epoch=epoch, why=why)

    def act_if_due(self, now: float) -> None:
        """Blocking (Kafka): call from the executor. Checks fencing, then publishes admission state."""
        term = self.term
        if term is None or now < self._next_act:
            return
        self._next_act = now + self.act_every_s
        depth = self._queue_depth()
        proof_started = time.monotonic()
        self.store.check(term.epoch)  # raises Fenced if a newer leader exists
        if self.term is not term:  # revoked while we were checking: do not act on a stale term
            return
        if time.monotonic() - proof_started > self.proof_valid_s:
            # Stalled between proving and acting: peers may have replaced us meanwhile.
            self.log("act_skipped", epoch=term.epoch, why="the fencing proof went stale")
            return
        # Re-announce the term: a peer that stalled sees our instance NOT_ALIVE until a new sample
        # arrives (regained liveliness alone does not revive an instance in DDS).
        self._announcer.write(term)
        self._admission.write(AdmissionState(
            leader=term.node, epoch=term.epoch, at_ms=int(time.time() * 1000), queue_depth=depth,
            high_watermark=self.high_watermark, retry_after_s=1.0))
        self.log("acted", epoch=term.epoch, queue_depth=depth)

    def _queue_depth(self) -> int:
        """Jobs on the jobs topic not yet consumed by the scheduler's group (its lag)."""
        if self._lag_consumer is None:
            self._lag_consumer = Consumer(consumer_config(self.bootstrap, f"{self.jobs_topic}.scheduler"))
        consumer = self._lag_consumer
        metadata = consumer.list_topics(self.jobs_topic, timeout=5)
        partitions = [TopicPartition(self.jobs_topic, p) for p in metadata.topics[self.jobs_topic].partitions]
        committed = consumer.committed(partitions, timeout=5)
        depth = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=5, cached=False)
            depth += high - (tp.offset if tp.offset >= 0 else low)
        return depth
