"""Structured logs: one JSON object per line on stdout, with the node and a timestamp."""
from __future__ import annotations

import sys
import time
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()


class EventLog:
    def __init__(self, node: str, stream=sys.stdout) -> None:
        self.node = node
        self.stream = stream

    def __call__(self, event: str, **fields: Any) -> None:
        record = {"ts": round(time.time(), 6), "node": self.node, "event": event, **fields}
        self.stream.write(_encoder.encode(record).decode() + "\n")
        self.stream.flush()
