"""Where Sluice keeps local state on a developer's machine (one place for the defaults)."""
from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """``$SLUICE_HOME``, else ``$XDG_STATE_HOME/sluice``, else ``~/.local/state/sluice``."""
    if home := os.environ.get("SLUICE_HOME"):
        return Path(home)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "sluice"


def kafka_data_dir() -> Path:
    return state_dir() / "kafka"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sluice``, else ``~/.cache/sluice``: things that can be rebuilt (compiled code)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sluice"
