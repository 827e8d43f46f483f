"""What one sandboxed job may use and see. Defaults are safe: no network, small caps."""
from __future__ import annotations

import functools
import os
import sys
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

MiB = 1 << 20

# The host paths a job sees, read-only, unless the caller chooses others.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


@functools.cache
def default_view() -> tuple[str, ...]:
    """System directories plus this Python's installation, so `python3` works inside."""
    prefix = os.path.realpath(sys.base_prefix)
    extra = () if any(prefix == p or prefix.startswith(p + "/") for p in SYSTEM_PATHS) else (prefix,)
    return SYSTEM_PATHS + extra


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    memory_bytes: Annotated[int, Meta(ge=4 * MiB)] = 512 * MiB  # RAM + swap: no swap escape
    pids: Annotated[int, Meta(ge=2)] = 256  # the namespace's init counts as one
    millicores: Annotated[int, Meta(ge=1)] | None = None  # CPU quota; None: no quota
    cpus: tuple[int, ...] = ()  # cpuset pinning (NUMA placement); () = not pinned
    mems: tuple[int, ...] = ()  # NUMA memory nodes; () = not pinned
    timeout_s: Annotated[float, Meta(gt=0)] = 3600.0  # wall clock
    output_bytes: Annotated[int, Meta(ge=0)] = 1 * MiB  # captured per stream; the rest is counted, dropped
    open_files: Annotated[int, Meta(ge=16)] = 1024
    file_size_bytes: Annotated[int, Meta(ge=0)] = 1024 * MiB
    scratch_bytes: Annotated[int, Meta(ge=MiB)] = 256 * MiB  # the writable /scratch (tmpfs)
    tmp_bytes: Annotated[int, Meta(ge=MiB)] = 64 * MiB  # the private /tmp (tmpfs)
    network: Literal["none", "loopback"] = "none"  # a private network namespace either way
    env: dict[str, str] = {}  # set inside, on top of the base environment
    env_passthrough: tuple[str, ...] = ()  # host variables allowed through, by name
    view: tuple[str, ...] | None = None  # host paths shown read-only; None: default_view()
    files: dict[str, str] = {}  # working files written into /scratch before start
    gpu_uuids: tuple[str, ...] = ()  # visible GPUs
    gpu_memory_bytes: Annotated[int, Meta(ge=0)] = 0  # per GPU; 0 = not watched
    uid: Annotated[int, Meta(ge=1)] = 65534
    gid: Annotated[int, Meta(ge=1)] = 65534

    def environment(self) -> dict[str, str]:
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/scratch", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
        passed = {name: os.environ[name] for name in self.env_passthrough if name in os.environ}
        gpus = {"CUDA_VISIBLE_DEVICES": ",".join(self.gpu_uuids)} if self.gpu_uuids else {}
        return {**base, **passed, **gpus, **self.env}
