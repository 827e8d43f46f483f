"""The control plane's error tree."""
from __future__ import annotations


class ControlPlaneError(Exception):
    """Base of every error raised by ``control_plane``."""


class DdsConfigError(ControlPlaneError):
    """The DDS configuration is invalid or conflicts with one already in use."""
