"""Simulated nodes for benchmarks: N NodeStatus writers in one process, one per node (own liveliness).

    python -m benchmarks._heartbeats --first 0 --count 10 --domain D --prefix P --lease 0.2 --seconds 30
"""
from __future__ import annotations

import argparse
import time

from control_plane.channels import ControlTopics
from control_plane.config import DdsConfig
from control_plane.participant import create_participant
from engine.model import GpuDevice, NodeStatus, NumaNodeCapacity
from engine.model.limits import GiB


def simulated_status(index: int) -> NodeStatus:
    numa = [NumaNodeCapacity(id=n, cpus=list(range(n * 16, n * 16 + 16)), total_millicores=16_000,
                             free_millicores=16_000, total_memory_bytes=128 * GiB, free_memory_bytes=128 * GiB)
            for n in range(2)]
    gpus = [GpuDevice(index=g, uuid=f"GPU-sim-{index}-{g}", total_memory_bytes=80 * GiB,
                      free_memory_bytes=80 * GiB, numa_node=g // 2) for g in range(4)]
    return NodeStatus(node_id=f"sim-{index:03}", numa=numa, gpus=gpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, kind in (("--first", int), ("--count", int), ("--domain", int), ("--lease", float),
                       ("--seconds", float), ("--interval", float)):
        parser.add_argument(name, type=kind, default=1.0 if name == "--interval" else None)
    parser.add_argument("--prefix", default="sluice")
    args = parser.parse_args()
    participant = create_participant(DdsConfig(domain_id=args.domain))
    nodes = [(simulated_status(i), ControlTopics(participant, args.lease, args.prefix).nodes)
             for i in range(args.first, args.first + args.count)]
    writers = [(status, topic.writer()) for status, topic in nodes]
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for status, writer in writers:
            writer.write(status)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
