"""The interface both cgroup backends fill, and the file helpers they share."""
from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path
from typing import Protocol

import msgspec

from sandbox.errors import CgroupError
from sandbox.limits import Limits


class CgroupUsage(msgspec.Struct, frozen=True):
    peak_memory_bytes: int | None
    oom_kills: int
    pids_limit_hits: int


class JobCgroup(Protocol):
    name: str

    def procs_files(self) -> list[str]:
        """The cgroup.procs files the launcher writes its pid into before anything runs."""
        ...

    def pids(self) -> list[int]: ...

    def kill(self) -> None:
        """Stop every process in the cgroup at once (frozen, then killed), double-forked ones included."""
        ...

    def usage(self) -> CgroupUsage: ...

    def destroy(self) -> None:
        """Kill what is left and remove the cgroup."""
        ...


class CgroupBackend(Protocol):
    version: int

    def create(self, name: str, limits: Limits) -> JobCgroup: ...

    def reap(self) -> list[str]:
        """Remove job cgroups left by a coordinator that crashed; return their names."""
        ...

    def close(self) -> None:
        """Remove this instance's own (empty) parent cgroup; the backend is not used afterwards."""
        ...


# cgroup files are small and read or written whole, on every job start and end: plain
# os calls, without the buffered text layers of open() (several times cheaper).


def write(path: str | Path, value: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)  # as open(path, "w")
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError as err:
        raise CgroupError(f"cannot write {value!r} to {path}: {err.strerror}") from err


def _read_raw(path: str | Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(fd)


def read(path: str | Path) -> str:
    try:
        return _read_raw(path)
    except OSError as err:
        raise CgroupError(f"cannot read {path}: {err.strerror}") from err


def read_pids(procs: str | Path) -> list[int]:
    """The pids in a cgroup; none when it is gone (ENOENT) or being removed (ENODEV)."""
    try:
        return [int(line) for line in _read_raw(procs).split()]
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENODEV):
            return []
        raise


def flat_keyed(text: str, key: str) -> int:
    """The value of ``key`` in a "key value" per line file (memory.events, pids.events...)."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def signal_all(procs: str | Path) -> list[int]:
    """SIGKILL every pid listed in ``procs`` once; returns them."""
    pids = read_pids(procs)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def kill_all(procs: str | Path, timeout_s: float = 5.0) -> None:
    """SIGKILL the pids listed until the list stays empty."""
    deadline = time.monotonic() + timeout_s
    while pids := signal_all(procs):
        if time.monotonic() > deadline:
            raise CgroupError(f"processes {pids[:5]} survive SIGKILL in {os.path.dirname(procs)}")
        time.sleep(0.005)


def remove_if_empty(path: str | Path) -> bool:
    """rmdir a cgroup that has no processes left; False (and nothing changed) while it has some."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        if err.errno != errno.EBUSY:
            raise CgroupError(f"cannot remove cgroup {path}: {err.strerror}") from err
        return False
    return True


def remove_dir(path: str | Path, timeout_s: float = 30.0) -> None:
    """rmdir a cgroup, retrying while it is busy: the kernel still tears its last processes down, or
    (after a coordinator crash) a launcher orphaned to the host's init stays a zombie until that init
    reaps it, which can take seconds on a loaded host."""
    deadline = time.monotonic() + timeout_s
    while not remove_if_empty(path):
        if time.monotonic() > deadline:
            raise CgroupError(f"cannot remove cgroup {path}: {os.strerror(errno.EBUSY)}")
        time.sleep(0.005)


def cpu_list(cpus: tuple[int, ...]) -> str:
    return ",".join(str(c) for c in sorted(cpus))
