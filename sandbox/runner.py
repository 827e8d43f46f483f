"""Run one job in the sandbox: cgroup, scratch, launcher, output, limits, outcome.

``Sandbox.start`` returns at once with a ``SandboxedJob``, watched by a thread of
its own; ``Sandbox.run`` watches from the calling thread. Watching drains the output
(capped), enforces the wall-clock limit and the GPU-memory grant, and records the
Outcome. ``wait`` blocks only its caller, so a coordinator can run many jobs side by
side. Once the Outcome is out, one teardown thread per Sandbox removes the job's
cgroup, scratch and pipes (``closed`` tells when). Every stop (timeout, cancel,
watchdog) kills the whole cgroup: the launcher, the namespace's init, the job and
anything it forked.
"""
from __future__ import annotations

import atexit
import ctypes
import fcntl
import logging
import os
import selectors
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

from sandbox.cgroups import CgroupBackend, JobCgroup, detect_backend
from sandbox.errors import SandboxError, SandboxUnavailable
from sandbox.gpu import GpuMemoryReader, device_nodes, over_grant
from sandbox.launcher import launcher_argv, launcher_path
from sandbox.limits import Limits, default_view
from sandbox.outcome import Outcome, Reason

_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2
_WATCHDOG_INTERVAL_S = 0.25
_TEARDOWN_BATCH_S = 0.01  # how long ended jobs may wait for teardown, gathering a batch
_STATUS_FD = 3  # where the launcher finds the status pipe
_READ_CHUNK = 65536
_libc = ctypes.CDLL(None, use_errno=True)
_log = logging.getLogger(__name__)


class Sandbox:
    """Runs isolated jobs on this host. One per coordinator; ``instance`` keeps coordinators apart."""

    def __init__(self, instance: str = "default", *, backend: CgroupBackend | None = None,
                 run_dir: Path | None = None, gpu_reader: GpuMemoryReader | None = None) -> None:
        if os.geteuid() != 0:
            raise SandboxUnavailable("the sandbox needs root to create namespaces, mounts and cgroups")
        self.instance = instance
        self.backend = backend or detect_backend(f"sluice/{instance}")
        self.run_dir = run_dir or Path("/run/sluice") / instance
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.launcher = launcher_path()
        self.gpu_reader = gpu_reader
        self._jobs: set[SandboxedJob] = set()
        self._jobs_lock = threading.Lock()
        # Ended jobs are torn down by one thread, in batches, after their Outcome is out.
        self._ended: list[SandboxedJob] = []
        self._teardown_wake = threading.Event()
        self._teardown_thread: threading.Thread | None = None
        # A process that exits right after a job (a one-shot `sluice sandbox run`) still tears it down:
        # the daemon teardown thread keeps running while exit handlers do.
        atexit.register(self.settle)
        self.reaped = self.reap()

    def reap(self) -> list[str]:
        """Clean up after a coordinator that died: leftover cgroups and scratch mounts."""
        names = self.backend.reap()
        for job_dir in self.run_dir.iterdir():
            _unmount(job_dir / "scratch")
            shutil.rmtree(job_dir)
        return names

    def start(self, argv: list[str], limits: Limits | None = None, name: str | None = None) -> SandboxedJob:
        """Start a job and return at once; a thread of its own watches it."""
        return self._launch(argv, limits, name, watch=True)

    def run(self, argv: list[str], limits: Limits | None = None) -> Outcome:
        """Run a job and wait for its Outcome, watching it from the calling thread (no thread of its own)."""
        job = self._launch(argv, limits, None, watch=False)
        job._watch()
        return job.wait()

    def _launch(self, argv: list[str], limits: Limits | None, name: str | None, *, watch: bool) -> SandboxedJob:
        if not argv:
            raise ValueError("argv must name a program")
        return SandboxedJob(self, name or uuid.uuid4().hex, argv, limits or Limits(), watch=watch)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every job started here has been torn down (cgroup, scratch, pipes)."""
        deadline = time.monotonic() + timeout
        with self._jobs_lock:
            jobs = list(self._jobs)
        for job in jobs:
            if not job.closed.wait(max(deadline - time.monotonic(), 0)):
                raise TimeoutError(f"job {job.name} was not torn down within {timeout}s")

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what still runs, wait for teardown, and remove this instance's cgroups and run dir."""
        with self._jobs_lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        self.settle(timeout)
        self.backend.close()
        self.run_dir.rmdir()

    def _track(self, job: SandboxedJob) -> None:
        with self._jobs_lock:
            self._jobs.add(job)

    def _tear_down(self, job: SandboxedJob) -> None:
        """Queue an ended job's cgroup, scratch and pipes for the teardown thread (started on first use)."""
        with self._jobs_lock:
            self._ended.append(job)
            if len(self._ended) == 1:  # the thread sleeps while nothing is queued: wake it once per batch
                self._teardown_wake.set()
            if self._teardown_thread is None:
                self._teardown_thread = threading.Thread(target=self._teardown_loop, name="sandbox-teardown",
                                                         daemon=True)
                self._teardown_thread.start()

    def _teardown_loop(self) -> None:
        while True:
            self._teardown_wake.wait()
            # Let a batch gather: one hand-over between threads per batch, not per job.
            time.sleep(_TEARDOWN_BATCH_S)
            with self._jobs_lock:
                batch, self._ended = self._ended, []
                self._teardown_wake.clear()
            for job in batch:
                try:
                    job._cleanup()
                except Exception:  # noqa: BLE001 - logged; the next start's reap retries what is left
                    _log.exception("tearing down sandbox job %s failed", job.name)
                finally:
                    with self._jobs_lock:
                        self._jobs.discard(job)
                    job.closed.set()


class SandboxedJob:
    def __init__(self, sandbox: Sandbox, name: str, argv: list[str], limits: Limits, *, watch: bool = True) -> None:
        self.sandbox = sandbox
        self.name = name
        self.limits = limits
        self._stop_reason: Reason | None = None
        self._stop_detail = ""
        self._stop_lock = threading.Lock()
        self._outcome: Outcome | None = None
        self._finished = threading.Event()  # the outcome is known
        self.closed = threading.Event()  # and the cgroup, scratch and pipes are gone
        self.cgroup: JobCgroup = sandbox.backend.create(name, limits)
        # Working files go into a host-prepared scratch; otherwise the launcher mounts a fresh one.
        self.job_dir: Path | None = sandbox.run_dir / name if limits.files else None
        try:
            self.scratch = _make_scratch(self.job_dir, limits) if self.job_dir else None
            self._spawn(argv)
        except BaseException:
            self._cleanup()
            raise
        sandbox._track(self)
        if watch:
            threading.Thread(target=self._watch, name=f"sandbox-{name}", daemon=True).start()

    # --- public ------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> Outcome:
        """The Outcome, as soon as the job has ended (teardown finishes right after; see ``closed``)."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.name} still runs after {timeout}s")
        assert self._outcome is not None
        return self._outcome

    def cancel(self) -> None:
        self._stop(Reason.CANCELLED, "cancelled")

    def pids(self) -> list[int]:
        return self.cgroup.pids()

    @property
    def done(self) -> bool:
        return self._outcome is not None

    # --- internals ---------------------------------------------------------------------------
    def _spawn(self, argv: list[str]) -> None:
        limits, sandbox = self.limits, self.sandbox
        devices: list[str] = []
        if limits.gpu_uuids and sandbox.gpu_reader is not None:
            indexes = [sandbox.gpu_reader.device_index(u) for u in limits.gpu_uuids]
            devices = device_nodes(i for i in indexes if i is not None)
        cmd = launcher_argv(sandbox.launcher, argv, limits, cgroup_procs=self.cgroup.procs_files(),
                            scratch=str(self.scratch) if self.scratch else None, status_fd=_STATUS_FD,
                            devices=devices,
                            view=limits.view if limits.view is not None else default_view())
        # Our ends (stdout, stderr, status) are read by the watcher; the launcher gets the write ends
        # as fds 1, 2 and 3. Every fd here is close-on-exec, so a launcher started at the same time
        # by another thread cannot inherit them (an inherited write end would hold a pipe open).
        self._read_fds: list[int] = []
        writes: list[int] = []
        try:
            for _ in range(3):
                read_end, write_end = _pipe()
                self._read_fds.append(read_end)
                writes.append(write_end)
            actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                       *[(os.POSIX_SPAWN_DUP2, w, target) for w, target in zip(writes, (1, 2, _STATUS_FD))]]
            self.started = time.monotonic()
            # posix_spawn (vfork-like) costs about half of Popen's Python-side work per job.
            # The launcher resets the job's signal dispositions and mask.
            self.pid = os.posix_spawn(cmd[0], cmd, limits.environment(), file_actions=actions)
        finally:
            for fd in writes:
                os.close(fd)

    def _stop(self, reason: Reason, detail: str) -> None:
        # Under the lock throughout: teardown (which may hand the cgroup to the next job) waits
        # for a stop in progress, and a stop after the outcome is published does nothing.
        with self._stop_lock:
            if self._stop_reason is not None or self._finished.is_set():
                return
            self._stop_reason, self._stop_detail = reason, detail
            # The launcher first: if it has not joined the cgroup yet, this alone stops everything;
            # if it has, the namespace's init dies with it (PDEATHSIG) and the cgroup kill takes the rest.
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.cgroup.kill()

    def _watch(self) -> None:
        """Drain output, enforce limits, publish the Outcome; then hand the job to teardown."""
        try:
            self._outcome = self._collect()
        except Exception as err:  # noqa: BLE001 - recorded as the outcome, never lost in a thread
            self.cgroup.kill()
            self._outcome = _error_outcome(f"monitoring failed: {err}", time.monotonic() - self.started)
        finally:
            with self._stop_lock:
                self._finished.set()
            self.sandbox._tear_down(self)

    def _collect(self) -> Outcome:
        limits = self.limits
        stdout_r, stderr_r, status_r = self._read_fds
        out = {stdout_r: bytearray(), stderr_r: bytearray()}
        dropped = dict.fromkeys(out, 0)
        status = bytearray()
        selector = selectors.PollSelector()  # three fds: poll(2) needs no epoll instance of its own
        for fd in self._read_fds:  # blocking fds: one read per readiness never blocks
            selector.register(fd, selectors.EVENT_READ)
        deadline = self.started + limits.timeout_s
        next_watch = time.monotonic()
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                self._stop(Reason.TIMED_OUT, f"ran past its {limits.timeout_s:g}s wall-clock limit")
                deadline = float("inf")
            if limits.gpu_memory_bytes and self.sandbox.gpu_reader is not None and now >= next_watch:
                next_watch = now + _WATCHDOG_INTERVAL_S
                self._watch_gpu_memory()
            wait = max(0.0, min(deadline, next_watch if limits.gpu_memory_bytes else deadline) - now)
            for key, _ in selector.select(timeout=min(wait, 1.0)):
                fd = key.fd
                chunk = os.read(fd, _READ_CHUNK)
                if not chunk:
                    selector.unregister(fd)
                    continue
                if fd == status_r:
                    status += chunk
                    if len(status) >= 4:  # the whole report: no need to wait for init's exit to see EOF
                        selector.unregister(fd)
                    continue
                room = limits.output_bytes - len(out[fd])
                out[fd] += chunk[:max(room, 0)]
                dropped[fd] += max(len(chunk) - max(room, 0), 0)
        selector.close()
        _, _, rusage = os.wait4(self.pid, 0)
        wall = time.monotonic() - self.started
        stdout, stderr = (bytes(b) for b in out.values())
        drops = list(dropped.values())
        usage = self.cgroup.usage()
        job_status = int.from_bytes(status[:4], "little", signed=True) if len(status) >= 4 else None
        reason, detail = self._classify(job_status, usage, stderr, truncated=any(drops))
        code = os.waitstatus_to_exitcode(job_status) if job_status is not None else None
        return Outcome(
            reason=reason, exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else (9 if job_status is None else None),
            wall_s=round(wall, 6), cpu_user_s=rusage.ru_utime, cpu_system_s=rusage.ru_stime,
            peak_memory_bytes=usage.peak_memory_bytes, stdout=stdout, stderr=stderr,
            stdout_dropped=drops[0], stderr_dropped=drops[1], detail=detail,
        )

    def _classify(self, job_status: int | None, usage, stderr: bytes, *, truncated: bool) -> tuple[Reason, str]:
        if job_status is None and self._stop_reason is None:
            lines = [ln for ln in stderr.decode(errors="replace").splitlines() if ln.startswith("sluice-launcher:")]
            return Reason.SANDBOX_ERROR, lines[-1] if lines else "the sandbox ended before the job did"
        if self._stop_reason is not None:
            return self._stop_reason, self._stop_detail
        code = os.waitstatus_to_exitcode(job_status)
        if usage.oom_kills:
            return Reason.OOM_KILLED, f"exceeded its memory limit of {self.limits.memory_bytes} bytes"
        if code != 0 and usage.pids_limit_hits:
            return Reason.PIDS_EXHAUSTED, f"hit its limit of {self.limits.pids} processes"
        if code != 0:
            return Reason.NONZERO_EXIT, f"exited with {code}" if code > 0 else f"killed by signal {-code}"
        if truncated:
            return Reason.OUTPUT_TRUNCATED, f"printed more than {self.limits.output_bytes} bytes on a stream"
        return Reason.OK, ""

    def _watch_gpu_memory(self) -> None:
        assert self.sandbox.gpu_reader is not None
        problem = over_grant(self.sandbox.gpu_reader, self.limits.gpu_uuids, set(self.cgroup.pids()),
                             self.limits.gpu_memory_bytes)
        if problem:
            self._stop(Reason.GPU_MEMORY_EXCEEDED, problem)

    def _cleanup(self) -> None:
        for fd in getattr(self, "_read_fds", ()):  # absent when the spawn failed early
            os.close(fd)
        self.cgroup.destroy()
        if self.job_dir is not None:
            _unmount(self.job_dir / "scratch")
            shutil.rmtree(self.job_dir)


def _pipe() -> tuple[int, int]:
    """A close-on-exec pipe whose ends are above the fds the launcher's are dup'ed onto (0-3)."""
    ends = []
    for fd in os.pipe2(os.O_CLOEXEC):
        if fd <= _STATUS_FD:  # possible only when this process runs with 0-3 closed
            fd, old = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _STATUS_FD + 1), fd
            os.close(old)
        ends.append(fd)
    return ends[0], ends[1]


def _make_scratch(job_dir: Path, limits: Limits) -> Path:
    """A tmpfs of ``scratch_bytes`` owned by the job's uid, holding its working files."""
    scratch = job_dir / "scratch"
    scratch.mkdir(parents=True)
    opts = f"size={limits.scratch_bytes},mode=0700,uid={limits.uid},gid={limits.gid}".encode()
    if _libc.mount(b"sluice-scratch", str(scratch).encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot mount the scratch tmpfs at {scratch}: {os.strerror(err)}")
    for relative, content in limits.files.items():
        target = scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        for path in (target, *[p for p in target.parents if scratch in p.parents]):
            os.chown(path, limits.uid, limits.gid)
    return scratch


def _unmount(path: Path) -> None:
    if os.path.ismount(path):
        _libc.umount2(str(path).encode(), _MNT_DETACH)


def _error_outcome(detail: str, wall: float) -> Outcome:
    return Outcome(reason=Reason.SANDBOX_ERROR, exit_code=None, signal=None, wall_s=wall, cpu_user_s=0.0,
                   cpu_system_s=0.0, peak_memory_bytes=None, stdout=b"", stderr=b"", detail=detail)
