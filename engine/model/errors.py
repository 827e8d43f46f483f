"""Errors raised when an input cannot become a model object."""
from __future__ import annotations


class InvalidInput(ValueError):
    """A payload, job file or argument that does not describe a valid model object.

    ``path`` points into the input (``$.resources.memory_bytes``) when known, so
    a person can find the offending field; nothing was changed by the attempt.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message if path is None else f"{message} - at `{path}`")
        self.reason = message
        self.path = path


class PayloadTooLarge(InvalidInput):
    """The encoded input is larger than the limit for its kind."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"payload of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit
