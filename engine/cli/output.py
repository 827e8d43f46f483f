"""Printing for the CLI: progress lines to stderr, results to stdout, JSON when asked."""
from __future__ import annotations

import signal
import sys
import time
from typing import Any

import msgspec


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def emit(value: Any, *, as_json: bool, text: str) -> None:
    """One JSON object with ``--json``, else the human line."""
    print(msgspec.json.encode(value).decode() if as_json else text, flush=True)


def wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM, then return so the caller can shut down in order."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        progress("stopping")


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt
