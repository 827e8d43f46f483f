"""The coordinator's configuration: one typed struct, defaults here, filled by the CLI."""
from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from engine.model.job import Labels, Name


class CoordinatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    node_id: Name
    bootstrap: str  # Kafka, host:port
    domain_id: Annotated[int, Meta(ge=0, le=232)] = 0
    prefix: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,100}$")] = "sluice"  # DDS topics and Kafka topics
    lease_s: Annotated[float, Meta(gt=0.01, le=60)] = 0.2  # liveliness lease: failure detection time
    heartbeat_s: Annotated[float, Meta(gt=0, le=60)] = 1.0  # NodeStatus republished at least this often
    admission_s: Annotated[float, Meta(gt=0, le=60)] = 0.5  # leader: AdmissionState and fencing check
    tick_s: Annotated[float, Meta(gt=0, le=1)] = 0.02
    claim_settle_s: Annotated[float, Meta(ge=0, le=60)] | None = None  # no live leader this long before a
    # claim (default: half the lease), so a node that just stalled acts on caught-up DDS state
    pool: Name = "default"
    labels: Labels = {}
    topology_file: str | None = None  # injected topology instead of this host's
    high_watermark: Annotated[int, Meta(ge=0)] = 10_000  # queued jobs before ingress is refused

    @property
    def settle_s(self) -> float:
        return self.lease_s / 2 if self.claim_settle_s is None else self.claim_settle_s

    @property
    def transactional_id(self) -> str:
        """One fixed id for every leader of this cluster: a new leader fences the old one."""
        return f"{self.prefix}.scheduler"
