"""The native launcher: compiled once from launcher.c, cached by source digest, and its command line.

Why native: the steps between fork and exec (join cgroups, unshare, mounts,
pivot_root, drop privileges) done from Python need ``preexec_fn``, which turns
vfork into a full fork of the interpreter (~1.5 ms) before any work; bubblewrap
measured 4.6–7.5 ms a job here. The launcher, linked statically, costs less CPU
than a bare ``unshare --fork --pid --mount --net --uts --ipc`` run (perf stat:
2.05–2.15 against 2.2–2.4 ms a run, shell loop included). Everything it does is
decided by the Python side.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sandbox.errors import SandboxUnavailable
from sandbox.limits import Limits

SOURCE = Path(__file__).with_name("launcher.c")
_CFLAGS = ("-O2", "-Wall")
_STATIC = "-static"  # when the C library allows it: no dynamic loader on every job start (~0.3 ms)


def launcher_path(cache_root: Path | None = None) -> Path:
    """The compiled launcher for this source, building it on first use."""
    flags = " ".join((*_CFLAGS, _STATIC)).encode()  # part of the cache key: other flags build anew
    digest = hashlib.sha256(SOURCE.read_bytes() + flags).hexdigest()[:12]
    base = cache_root or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sluice"
    binary = base / f"sluice-launcher-{digest}"
    if binary.exists():
        return binary
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SandboxUnavailable("the sandbox launcher needs a C compiler once (Debian: apt-get install -y gcc)")
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        out = Path(tmp) / "launcher"
        for static in ([_STATIC], []):
            done = subprocess.run([compiler, *_CFLAGS, *static, "-o", str(out), str(SOURCE)],
                                  capture_output=True, text=True, check=False)
            if done.returncode == 0:
                break
        else:
            raise SandboxUnavailable(f"compiling the sandbox launcher failed:\n{done.stderr.strip()}")
        out.rename(binary)  # atomic: a concurrent builder produces the same bytes
    return binary


def launcher_argv(binary: Path, argv: list[str], limits: Limits, *, cgroup_procs: list[str],
                  scratch: str | None, status_fd: int, devices: list[str], view: tuple[str, ...]) -> list[str]:
    """``scratch``: a host directory to show as /scratch; None: a fresh tmpfs of ``limits.scratch_bytes``."""
    cmd = [str(binary)]
    for path in cgroup_procs:
        cmd += ["--cgroup-procs", path]
    for path in view:
        cmd += ["--ro", path]
    for path in devices:
        cmd += ["--dev", path]
    cmd += [
        *(["--scratch", scratch] if scratch else ["--scratch-size", str(limits.scratch_bytes)]),
        "--tmp-size", str(limits.tmp_bytes), "--net", limits.network,
        "--uid", str(limits.uid), "--gid", str(limits.gid), "--status-fd", str(status_fd),
        "--rlimit", f"nofile={limits.open_files}", "--rlimit", f"fsize={limits.file_size_bytes}",
        "--rlimit", "core=0", "--",
    ]
    return cmd + argv
