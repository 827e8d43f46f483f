"""Control-plane messages that exist only on DDS (the job model holds the rest).

Internal wire types: unknown fields tolerated, new fields only with defaults.
"""
from __future__ import annotations

from typing import Union

import msgspec


class LeaderTerm(msgspec.Struct, frozen=True, kw_only=True):
    """Who leads, and the epoch Kafka recorded for that term."""

    node: str
    epoch: int
    since_ms: int = 0


class _Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    id: str  # unique per command: readers drop duplicates
    issued_by: str = ""
    at_ms: int = 0


class DrainNode(_Command, tag="drain"):
    node: str


class UndrainNode(_Command, tag="undrain"):
    node: str


class CancelJob(_Command, tag="cancel"):
    job_id: str


Command = Union[DrainNode, UndrainNode, CancelJob]


class JobStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Fast, lossy job status from the node running it (Kafka holds the record)."""

    job_id: str
    attempt: int
    node: str
    state: str
    at_ms: int
