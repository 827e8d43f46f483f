"""The sandbox's error tree. Every message names what is missing and how to fix it."""
from __future__ import annotations


class SandboxError(Exception):
    """Base of every error raised by ``sandbox``."""


class SandboxUnavailable(SandboxError):
    """This host cannot isolate jobs as asked (no usable cgroups, no compiler for the launcher...).

    Sluice never runs a job unisolated instead.
    """


class CgroupError(SandboxError):
    """A cgroup could not be created, configured, read or removed."""
