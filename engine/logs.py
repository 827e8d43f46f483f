"""Structured logging for every Sluice process: one JSON object per line."""
from __future__ import annotations

import logging
import sys

import msgspec

_encoder = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {"ts": round(record.created, 6), "level": record.levelname, "logger": record.name,
                  "msg": record.getMessage()}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(fields).decode()


def configure(level: int = logging.WARNING, stream=sys.stderr) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
