"""A DDS round-trip probe: ping a separate echo process and time the replies.

Used by ``sluice up`` to prove the control plane works on this host, by the tests
(two real processes), and by the round-trip benchmark. The echo side runs as
``python -m control_plane.probe --domain N --seconds S`` and exits on its own.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import msgspec

from control_plane.config import DdsConfig
from control_plane.participant import create_participant
from control_plane.qos import command_qos
from control_plane.topics import StructTopic

PING_TOPIC = "sluice.probe.ping"
PONG_TOPIC = "sluice.probe.pong"


class Ping(msgspec.Struct, frozen=True):
    origin: str
    seq: int
    sent_ns: int
    responder: str = ""


class ProbeResult(msgspec.Struct, frozen=True):
    round_trips: int
    lost: int
    p50_us: float
    p99_us: float
    discovery_ms: float
    responder: str


def _topics(config: DdsConfig) -> tuple[StructTopic[Ping], StructTopic[Ping]]:
    participant = create_participant(config)
    qos = command_qos(depth=16)
    return (StructTopic(participant, PING_TOPIC, Ping, lambda p: p.origin, qos),
            StructTopic(participant, PONG_TOPIC, Ping, lambda p: p.origin, qos))


def serve_echo(config: DdsConfig, seconds: float, max_replies: int = 100_000) -> int:
    """Answer every ping with a pong until ``seconds`` pass or ``max_replies`` are sent."""
    ping_topic, pong_topic = _topics(config)
    pings, pongs = ping_topic.reader(), pong_topic.writer()
    me = f"echo-{os.getpid()}"
    replies = 0
    deadline = time.monotonic() + seconds
    while replies < max_replies and time.monotonic() < deadline:
        if not pings.wait(min(0.2, max(deadline - time.monotonic(), 0.001))):
            continue
        for sample in pings.take():
            if sample.value is not None:
                pongs.write(msgspec.structs.replace(sample.value, responder=me))
                replies += 1
    return replies


def spawn_echo(config: DdsConfig, seconds: float) -> subprocess.Popen[bytes]:
    """Start the echo side as a separate process (it exits by itself after ``seconds``)."""
    cmd = [sys.executable, "-m", "control_plane.probe", "--domain", str(config.domain_id),
           "--seconds", str(seconds)]
    if config.trace_file:
        cmd += ["--trace-file", config.trace_file + ".echo"]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL)


def measure_round_trips(config: DdsConfig, count: int = 100, timeout_s: float = 30.0) -> ProbeResult:
    """Ping a running echo process ``count`` times, one at a time; p50/p99 in microseconds."""
    ping_topic, pong_topic = _topics(config)
    pongs, pings = pong_topic.reader(), ping_topic.writer()
    origin = f"probe-{os.getpid()}"
    started = time.monotonic()
    deadline = started + timeout_s
    first = _await_first_pong(pings, pongs, origin, deadline)
    discovery_ms = (time.monotonic() - started) * 1000
    latencies: list[float] = []
    lost = 0
    for seq in range(1, count + 1):
        sent = time.perf_counter_ns()
        pings.write(Ping(origin, seq, sent))
        if _await_pong(pongs, origin, seq, min(deadline, time.monotonic() + 1.0)):
            latencies.append((time.perf_counter_ns() - sent) / 1000)
        else:
            lost += 1
        if time.monotonic() > deadline:
            lost += count - seq
            break
    if not latencies:
        raise TimeoutError("no pong came back from the echo process")
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return ProbeResult(len(latencies), lost, round(statistics.median(latencies), 1), round(q[98], 1),
                       round(discovery_ms, 1), first)


def _await_first_pong(pings, pongs, origin: str, deadline: float) -> str:
    """Discovery takes a moment: ping every 50 ms until the echo answers."""
    while time.monotonic() < deadline:
        pings.write(Ping(origin, 0, time.perf_counter_ns()))
        if pongs.wait(0.05):
            for sample in pongs.take():
                if sample.value is not None and sample.value.origin == origin:
                    return sample.value.responder
    raise TimeoutError("the echo process was not discovered over DDS in time")


def _await_pong(pongs, origin: str, seq: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if not pongs.wait(max(deadline - time.monotonic(), 0.001)):
            continue
        for sample in pongs.take():
            if sample.value is not None and sample.value.origin == origin and sample.value.seq == seq:
                return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description="Sluice DDS echo peer (loopback only)")
    parser.add_argument("--domain", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--trace-file")
    args = parser.parse_args()
    replies = serve_echo(DdsConfig(domain_id=args.domain, trace_file=args.trace_file), args.seconds)
    print(msgspec.json.encode({"replies": replies}).decode())


if __name__ == "__main__":
    main()
