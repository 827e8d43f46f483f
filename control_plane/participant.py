"""One DDS participant per process and domain, created with Sluice's configuration.

Cyclone reads a domain's configuration once, when the domain is first created in
a process. ``create_participant`` creates the domain explicitly with our
configuration (so an ambient ``CYCLONEDDS_URI`` cannot widen it) and refuses a
second, different configuration for the same domain in the same process.
"""
from __future__ import annotations

import threading

from cyclonedds.domain import Domain, DomainParticipant

from control_plane.config import DdsConfig
from control_plane.errors import DdsConfigError

_lock = threading.Lock()
_domains: dict[int, tuple[str, Domain]] = {}


def create_participant(config: DdsConfig | None = None) -> DomainParticipant:
    """A participant in ``config.domain_id`` (loopback-only by default)."""
    config = config or DdsConfig()
    text = config.cyclone_config()
    with _lock:
        known = _domains.get(config.domain_id)
        if known is None:
            _domains[config.domain_id] = (text, Domain(config.domain_id, text))
        elif known[0] != text:
            raise DdsConfigError(
                f"DDS domain {config.domain_id} already runs with another configuration in this process"
            )
    return DomainParticipant(config.domain_id)
