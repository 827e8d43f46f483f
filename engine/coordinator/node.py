"""The coordinator process: heartbeats, membership, election, commands, leader duties.

One asyncio program. DDS reads are non-blocking takes on every tick; Kafka calls
(epoch claims, fencing checks, lag) go through one bounded executor. Shutdown is
ordered: leader duties off, the heartbeat instance disposed (peers see a leave,
not a crash), then the participant goes.
"""
from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from control_plane.channels import ControlTopics
from control_plane.config import DdsConfig
from control_plane.election import Action, decide, newer, newest_live
from control_plane.membership import Membership
from control_plane.messages import DrainNode, LeaderTerm, UndrainNode
from control_plane.participant import create_participant
from data_plane.epochs import Fenced, KafkaEpochStore
from data_plane.errors import DataPlaneError
from data_plane.topics import SluiceTopics, ensure_topics
from engine.coordinator.capacity import CapacityReader, HostCapacity, TopologyFile
from engine.coordinator.config import CoordinatorConfig
from engine.coordinator.leader import LeaderDuties
from engine.coordinator.log import EventLog
from engine.model import NodeStatus


class Coordinator:
    def __init__(self, config: CoordinatorConfig, capacity: CapacityReader | None = None) -> None:
        self.config = config
        self.log = EventLog(config.node_id)
        self.capacity = capacity or (TopologyFile(Path(config.topology_file)) if config.topology_file
                                     else HostCapacity())
        self.kafka_topics = SluiceTopics(prefix=config.prefix)
        self.membership = Membership()
        self.newest: LeaderTerm | None = None
        self.draining = False
        self.incarnation = time.time_ns() // 1_000_000
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kafka")
        self._claiming = False
        self._pause: float | None = None  # the longest stall seen since last handled
        self._leaderless_since: float | None = None  # when this node first saw reason to claim
        self._hold_claims_until = 0.0  # after our own stall, liveliness views need time to heal

    async def run(self, stop: asyncio.Event) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, ensure_topics, config.bootstrap, self.kafka_topics.specs())
        participant = create_participant(DdsConfig(domain_id=config.domain_id))
        topics = ControlTopics(participant, config.lease_s, config.prefix)
        heartbeat, nodes, leaders, commands = (topics.nodes.writer(), topics.nodes.reader(), topics.leader.reader(),
                                               topics.commands.reader())
        store = KafkaEpochStore(config.bootstrap, self.kafka_topics.leader_epochs, config.transactional_id,
                                config.node_id)
        duties = LeaderDuties(topics, store, config.bootstrap, self.kafka_topics.jobs, config.high_watermark,
                              config.admission_s, config.lease_s, self.log)
        await loop.run_in_executor(self._executor, store.warm)
        self.log("started", pid=os.getpid(), lease_s=config.lease_s, domain=config.domain_id)
        heartbeat.write(self._status())
        next_heartbeat = time.monotonic() + config.heartbeat_s
        started = time.monotonic()
        grace = max(1.0, 3 * config.lease_s)  # discover peers before the first claim...
        discovered = False  # ...unless a live leader was seen: then this node knows the cluster
        watcher = asyncio.create_task(self._watch_pauses(stop))
        try:
            while not stop.is_set():
                now = time.monotonic()
                self._handle_pause(duties)
                if self._apply_commands(commands.take()):
                    heartbeat.write(self._status())
                self.membership.refresh(nodes.read())
                self.newest = newest_live(leaders.read())
                discovered = discovered or self.newest is not None or now - started >= grace
                if discovered and now >= self._hold_claims_until:
                    await self._elect(duties, store)
                self._handle_pause(duties)  # re-check leadership right before acting
                if duties.leading:
                    await self._act(duties)
                if now >= next_heartbeat:
                    heartbeat.write(self._status())
                    next_heartbeat = now + config.heartbeat_s
                try:
                    await asyncio.wait_for(stop.wait(), timeout=config.tick_s)
                except TimeoutError:
                    pass
        finally:
            watcher.cancel()
            duties.on_revoked("shutting down")
            heartbeat.dispose(config.node_id)
            self.log("stopped")
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _watch_pauses(self, stop: asyncio.Event) -> None:
        """A task that only sleeps: a gap longer than the lease means the whole process did not run
        (SIGSTOP, a VM stall), so peers may have replaced us. Awaiting Kafka does not count."""
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(self.config.tick_s)
            now = time.monotonic()
            gap = now - last - self.config.tick_s
            if gap > self.config.lease_s:
                self._pause = max(gap, self._pause or 0.0)
            last = now

    def _handle_pause(self, duties: LeaderDuties) -> None:
        if self._pause is None:
            return
        if duties.leading:  # stop acting now; the election decides afresh from what DDS says
            duties.on_revoked(f"paused for {self._pause:.3f}s, longer than the lease")
        self._pause = None
        self._leaderless_since = None  # what we saw before the stall is stale: observe afresh
        config = self.config  # until peers' heartbeats and term re-announcements revive their instances here
        self._hold_claims_until = time.monotonic() + 2 * max(config.lease_s, config.heartbeat_s, config.admission_s)

    def _status(self) -> NodeStatus:
        numa, gpus = self.capacity.read()
        config = self.config
        return NodeStatus(node_id=config.node_id, incarnation=self.incarnation, pool=config.pool,
                          labels=dict(config.labels), numa=numa, gpus=gpus, draining=self.draining,
                          at_ms=int(time.time() * 1000))

    def _apply_commands(self, samples) -> bool:
        changed = False
        for sample in samples:
            match sample.value:
                case DrainNode(node=node) if node == self.config.node_id:
                    changed |= not self.draining
                    self.draining = True
                    self.log("draining", command=sample.value.id)
                case UndrainNode(node=node) if node == self.config.node_id:
                    changed |= self.draining
                    self.draining = False
                    self.log("undrained", command=sample.value.id)
        return changed

    async def _elect(self, duties: LeaderDuties, store: KafkaEpochStore) -> None:
        snapshot = self.membership.snapshot()
        action = decide(self.config.node_id, snapshot, duties.term, self.newest)
        if action is Action.STEP_DOWN:
            duties.on_revoked(f"a newer leader ({self.newest.node}, epoch {self.newest.epoch}) exists"
                              if self.newest else "no longer the expected leader")
        if action is not Action.CLAIM:
            self._leaderless_since = None
            return
        now = time.monotonic()
        if self._leaderless_since is None:
            self._leaderless_since = now
        if now - self._leaderless_since >= self.config.settle_s and not self._claiming:
            self._claiming = True
            try:
                epoch = await asyncio.get_running_loop().run_in_executor(self._executor, store.claim)
            except (Fenced, DataPlaneError) as err:
                self.log("claim_failed", error=str(err))
                return
            finally:
                self._claiming = False
                self._leaderless_since = None
                asyncio.get_running_loop().run_in_executor(self._executor, store.warm)  # for the next claim
            term = LeaderTerm(node=self.config.node_id, epoch=epoch, since_ms=int(time.time() * 1000))
            self.newest = newer(self.newest, term)
            duties.on_elected(term)

    async def _act(self, duties: LeaderDuties) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, duties.act_if_due, time.monotonic())
        except Fenced as err:
            duties.on_revoked(str(err))
        except DataPlaneError as err:
            self.log("act_failed", error=str(err))


def run_coordinator(config: CoordinatorConfig) -> None:
    """Run until SIGINT/SIGTERM, then shut down in order."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Coordinator(config).run(stop)

    asyncio.run(main())
