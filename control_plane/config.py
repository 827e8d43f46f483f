"""DDS configuration: loopback-only with multicast off unless a deployment says otherwise.

Development and tests run every participant on 127.0.0.1 with unicast discovery
to the local ports; multi-host deployments hand over their own Cyclone DDS XML
(or ``file://`` URI) through ``DdsConfig(mode="uri", uri=...)``, explicitly.
"""
from __future__ import annotations

from typing import Annotated, Literal
from xml.sax.saxutils import escape

import msgspec
from msgspec import Meta

LOOPBACK = "127.0.0.1"


class DdsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How this process joins the DDS domain."""

    domain_id: Annotated[int, Meta(ge=0, le=232)] = 0
    mode: Literal["loopback", "uri"] = "loopback"
    uri: str | None = None  # Cyclone XML or file:// URI; only with mode="uri"
    max_participants: Annotated[int, Meta(ge=1, le=120)] = 30  # per host, bounds discovery ports
    trace_file: str | None = None  # Cyclone's own trace, for diagnosing discovery
    trace_categories: str = "config,discovery"

    def __post_init__(self) -> None:
        if (self.mode == "uri") != (self.uri is not None):
            raise ValueError("mode='uri' needs uri, and uri needs mode='uri'")

    def cyclone_config(self) -> str:
        """The configuration string handed to Cyclone for this domain."""
        if self.mode == "uri":
            assert self.uri is not None
            return self.uri
        tracing = ""
        if self.trace_file:
            tracing = (f"<Tracing><Category>{escape(self.trace_categories)}</Category>"
                       f"<OutputFile>{escape(self.trace_file)}</OutputFile></Tracing>")
        return (
            "<CycloneDDS><Domain id=\"any\"><General>"
            f"<Interfaces><NetworkInterface address=\"{LOOPBACK}\" multicast=\"false\"/></Interfaces>"
            "<AllowMulticast>false</AllowMulticast>"
            "</General><Discovery>"
            "<ParticipantIndex>auto</ParticipantIndex>"
            f"<MaxAutoParticipantIndex>{self.max_participants}</MaxAutoParticipantIndex>"
            f"<Peers><Peer address=\"{LOOPBACK}\"/></Peers>"
            f"</Discovery>{tracing}</Domain></CycloneDDS>"
        )
