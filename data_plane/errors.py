"""The data plane's error tree. Each error says what failed and what to do about it."""
from __future__ import annotations


class DataPlaneError(Exception):
    """Base of every error raised by ``data_plane``."""


class BrokerError(DataPlaneError):
    """The local Kafka broker could not be fetched, started, reached or stopped."""


class JarsUnavailable(BrokerError):
    """The broker's jars are not cached and could not be fetched from Maven Central."""


class BrokerNotRunning(BrokerError):
    """No broker is running for the given data directory."""


class TopicError(DataPlaneError):
    """A topic could not be created, or exists with an incompatible layout."""
