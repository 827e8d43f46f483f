"""Admission state: what the leader publishes so producers can refuse work early."""
from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from engine.model.job import Name

NonNegative = Annotated[int, Meta(ge=0)]


class TenantAdmission(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant's standing: queued jobs against its cap, and remaining credit."""

    queued: NonNegative = 0
    max_queued: NonNegative = 0  # 0: no per-tenant cap
    credit: float = 0.0  # jobs the tenant may still submit in this window
    retry_after_s: Annotated[float, Meta(ge=0)] = 0.0


class AdmissionState(msgspec.Struct, frozen=True, kw_only=True):
    """The cluster-wide and per-tenant admission state, from the leader of ``epoch``."""

    leader: Name
    epoch: NonNegative
    at_ms: NonNegative
    queue_depth: NonNegative = 0
    high_watermark: NonNegative = 0  # 0: no global cap
    retry_after_s: Annotated[float, Meta(ge=0)] = 1.0
    tenants: dict[Name, TenantAdmission] = {}
    default_tenant: TenantAdmission = TenantAdmission()
