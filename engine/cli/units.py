"""Parsing the sizes and durations people type: 64M, 1.5GiB, 2s, 500ms, 1m."""
from __future__ import annotations

import re

from engine.model import InvalidInput

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_size(text: str) -> int:
    """Bytes from "512", "64M", "64MiB", "1.5G" (binary multiples, as memory limits are)."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"{text!r} is not a size; use e.g. 64M, 512MiB or 2G")
    number, unit, _ = match.groups()
    return int(float(number) * 1024 ** _POWERS[unit.upper()])


def parse_duration(text: str) -> float:
    """Seconds from "2", "2s", "500ms", "1.5m", "1h"."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise InvalidInput(f"{text!r} is not a positive duration; use e.g. 500ms, 2s or 1m")
    number, unit = match.groups()
    return float(number) * _SECONDS[unit.lower() if unit else None]
