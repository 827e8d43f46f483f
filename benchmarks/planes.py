"""Foundation figures: local broker cold start, Kafka and DDS round trips, each with a baseline.

    python -m benchmarks.planes [--starts 3] [--round-trips 200]

- Broker cold start (jars cached): start -> admin round trip answered, median of
  N starts on fresh data dirs. Baseline: `java -version` (bare JVM start).
- Kafka round trip: idempotent acks=all produce -> read_committed consume.
  Baseline: one admin metadata request to the same broker.
- DDS round trip to a separate process over loopback. Baseline: a UDP ping-pong
  between two Python processes on 127.0.0.1 (the floor the DDS stack adds to).
"""
from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks._report import finish, percentiles
from control_plane import probe as dds_probe
from control_plane.config import DdsConfig
from data_plane import probe as kafka_probe
from data_plane.broker import BrokerConfig, LocalBroker, ensure_jars
from confluent_kafka.admin import AdminClient

from data_plane.clients import admin_config
from data_plane.topics import SluiceTopics, ensure_topics

_UDP_ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); s.settimeout(30)
for _ in range(int(sys.argv[1])):
    data, addr = s.recvfrom(256); s.sendto(data, addr)
"""


def broker_cold_starts(count: int) -> tuple[list[float], LocalBroker]:
    """Start ``count`` brokers one after another; keep the last one running for the round trips."""
    times, broker = [], None
    for i in range(count):
        if broker is not None:
            broker.stop()
        data = tempfile.mkdtemp(prefix="sluice-bench-kafka-")
        started = time.perf_counter()
        broker = LocalBroker(BrokerConfig(data_dir=data)).start()
        times.append(time.perf_counter() - started)
        print(f"cold start {i + 1}/{count}: {times[-1]:.2f}s", file=sys.stderr)
    assert broker is not None
    return times, broker


def jvm_starts(count: int) -> list[float]:
    java = shutil.which("java") or "java"
    times = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run([java, "-version"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def metadata_requests(bootstrap: str, count: int) -> list[float]:
    """One metadata request at a time on a connected admin client, in ms."""
    admin = AdminClient(admin_config(bootstrap))
    admin.list_topics(timeout=10)  # connect first
    times = []
    for _ in range(count):
        started = time.perf_counter()
        admin.list_topics(timeout=10)
        times.append((time.perf_counter() - started) * 1000)
    return times


def udp_round_trips(count: int) -> list[float]:
    echo = subprocess.Popen([sys.executable, "-c", _UDP_ECHO, str(count)], stdout=subprocess.PIPE, text=True)
    port = int(echo.stdout.readline())
    latencies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for seq in range(count):
            started = time.perf_counter_ns()
            sock.sendto(seq.to_bytes(8, "big"), ("127.0.0.1", port))
            sock.recvfrom(256)
            latencies.append((time.perf_counter_ns() - started) / 1000)
    echo.wait(10)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--domain", type=int, default=201)
    args = parser.parse_args()
    ensure_jars(progress=lambda m: print(m, file=sys.stderr))

    starts, broker = broker_cold_starts(args.starts)
    try:
        jvm = jvm_starts(args.starts)
        topics = SluiceTopics(prefix=f"bench-{time.time_ns()}")
        ensure_topics(broker.bootstrap, topics.specs())
        kafka = kafka_probe.measure_round_trips(broker.bootstrap, topics.jobs, count=args.round_trips)
        admin = metadata_requests(broker.bootstrap, args.round_trips)
    finally:
        broker.stop()

    dds_config = DdsConfig(domain_id=args.domain)
    echo = dds_probe.spawn_echo(dds_config, seconds=120)
    try:
        dds = dds_probe.measure_round_trips(dds_config, count=args.round_trips)
    finally:
        echo.terminate()
        echo.wait(10)
    udp = percentiles(udp_round_trips(args.round_trips))

    admin_p = percentiles(admin)
    finish("planes", {
        "broker_cold_start_s": {"median": round(statistics.median(starts), 2), "all": [round(t, 2) for t in starts]},
        "jvm_start_s_baseline": round(statistics.median(jvm), 3),
        "broker_start_vs_jvm": round(statistics.median(starts) / statistics.median(jvm), 1),
        "kafka_round_trip_ms": {"p50": kafka.p50_ms, "p99": kafka.p99_ms, "first": kafka.first_ms},
        "kafka_admin_request_ms_baseline": admin_p,
        "kafka_round_trip_vs_admin_p50": round(kafka.p50_ms / admin_p["p50"], 2),
        "dds_round_trip_us": {"p50": dds.p50_us, "p99": dds.p99_us, "lost": dds.lost,
                              "discovery_ms": dds.discovery_ms},
        "udp_round_trip_us_baseline": udp,
        "dds_vs_udp_p50": round(dds.p50_us / udp["p50"], 2),
        "round_trips": args.round_trips,
    })


if __name__ == "__main__":
    main()
