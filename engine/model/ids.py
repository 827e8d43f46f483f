"""Client-generated, time-sortable job ids (ULID layout: 48-bit ms time + 80 random bits).

Ids sort by creation time as plain strings, so Kafka keys, logs and the CLI list
jobs in submission order without a central counter.
"""
from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
JOB_ID_PATTERN = "^[0-9A-HJKMNP-TV-Z]{26}$"


def new_job_id(now_ms: int | None = None, entropy: bytes | None = None) -> str:
    """A new 26-character id; ``now_ms`` and ``entropy`` are injectable for tests."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"timestamp {ms} ms does not fit 48 bits")
    rand = os.urandom(10) if entropy is None else entropy
    if len(rand) != 10:
        raise ValueError("entropy must be 10 bytes")
    value = (ms << 80) | int.from_bytes(rand, "big")
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def job_id_time_ms(job_id: str) -> int:
    """The creation time (ms since the epoch) encoded in ``job_id``."""
    value = 0
    for char in job_id:
        value = (value << 5) | _ALPHABET.index(char)
    return value >> 80
