"""Shared helpers for benchmarks: percentiles and the final JSON line."""
from __future__ import annotations

import os
import platform
import statistics
import sys
from typing import Any

import msgspec


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 of ``samples`` (inclusive method: stable for small runs)."""
    if len(samples) == 1:
        return {"p50": samples[0], "p99": samples[0]}
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(statistics.median(samples), 3), "p99": round(q[98], 3)}


def finish(name: str, figures: dict[str, Any]) -> None:
    """Print the benchmark's figures as one JSON object, the last line of its output."""
    env = {"python": platform.python_version(), "cpus": os.cpu_count()}
    print(msgspec.json.encode({"benchmark": name, **figures, "env": env}).decode(), flush=True)
    sys.stdout.flush()
