"""The QoS profiles Sluice uses, named for what they carry."""
from __future__ import annotations

from cyclonedds.qos import Policy, Qos
from cyclonedds.util import duration

_BLOCK = duration(seconds=1)  # how long a reliable write may block on a full history


def state_qos() -> Qos:
    """The latest value per key, delivered to late joiners (Leader, AdmissionState)."""
    return Qos(
        Policy.Reliability.Reliable(_BLOCK),
        Policy.Durability.TransientLocal,
        Policy.History.KeepLast(1),
    )


def heartbeat_qos(lease_s: float) -> Qos:
    """Per-node status under a liveliness lease: a dead writer is noticed within ``lease_s``."""
    return Qos(
        Policy.Reliability.Reliable(_BLOCK),
        Policy.Durability.TransientLocal,
        Policy.History.KeepLast(1),
        Policy.Liveliness.Automatic(duration(seconds=lease_s)),
        Policy.WriterDataLifecycle(autodispose=True),
    )


def heartbeat_reader_qos() -> Qos:
    """Reads heartbeats of any lease: a reader requesting a long lease matches every shorter offer,
    and each writer's loss is still detected within that writer's own lease. Instances of writers
    gone for a minute are purged from the cache."""
    return Qos(
        Policy.Reliability.Reliable(_BLOCK),
        Policy.Durability.TransientLocal,
        Policy.History.KeepLast(1),
        Policy.Liveliness.Automatic(duration(seconds=3600)),
        Policy.ReaderDataLifecycle(autopurge_nowriter_samples_delay=duration(seconds=60),
                                   autopurge_disposed_samples_delay=duration(seconds=60)),
    )


def command_qos(depth: int = 64) -> Qos:
    """Commands (cancel, drain): reliable, in order, the last ``depth`` kept."""
    return Qos(
        Policy.Reliability.Reliable(_BLOCK),
        Policy.Durability.Volatile,
        Policy.History.KeepLast(depth),
    )


def status_stream_qos() -> Qos:
    """Fast job status: the newest sample per key matters, a lost one does not."""
    return Qos(
        Policy.Reliability.BestEffort,
        Policy.Durability.Volatile,
        Policy.History.KeepLast(1),
    )
