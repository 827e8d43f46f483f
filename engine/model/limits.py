"""Bounds on every model field: one place, so the SDK, CLI and decoders agree.

They reject inputs that are absurd rather than merely large for today's fleet
(a job asking for 2 PiB of memory is a typo or an attack, not a plan).
"""
from __future__ import annotations

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40

MAX_JOB_PAYLOAD_BYTES = 1 * MiB  # encoded JobSpec, job file or wire message carrying one
MAX_WIRE_PAYLOAD_BYTES = 4 * MiB  # any other internal message (node status of a big box)

MAX_MILLICORES = 1024 * 1000  # 1024 cores
MIN_MEMORY_BYTES = 4 * MiB
MAX_MEMORY_BYTES = 64 * TiB
MAX_PIDS = 1 << 22
MAX_GPUS = 64
MAX_GPU_MEMORY_BYTES = 1 * TiB  # per GPU
MAX_SCRATCH_BYTES = 64 * TiB

MAX_ARGV_ITEMS = 4096
MAX_ENV_ITEMS = 1024
MAX_FILES = 256
MAX_LABELS = 64
MAX_STRING_BYTES = 64 * KiB

MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_ATTEMPTS = 100
MAX_BACKOFF_S = 24 * 3600.0
MAX_PRIORITY = 1000
