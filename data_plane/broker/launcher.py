"""Start, watch and stop a real single-node Apache Kafka broker (KRaft) on 127.0.0.1.

``LocalBroker(config).start()`` returns once an admin round trip succeeds, or
raises ``BrokerError`` with the end of the broker's log. An attached broker dies
with its parent (PR_SET_PDEATHSIG), so a crashed test run leaves no JVM behind; a
detached one (``sluice kafka start``) is found again through ``broker.json`` in its
data directory and stopped with SIGTERM, then SIGKILL after a grace period.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import psutil

from data_plane.broker.config import LOOPBACK, BrokerConfig, free_port, new_cluster_id, render_properties
from data_plane.broker.jars import ensure_jars
from data_plane.clients import ClusterInfo, probe_cluster
from data_plane.errors import BrokerError, BrokerNotRunning

LOG4J_CONFIG = Path(__file__).with_name("log4j2.xml")
_STATE_FILE = "broker.json"
_PR_SET_PDEATHSIG = 1


class BrokerInfo(msgspec.Struct, frozen=True):
    """A running broker, as recorded in ``<data_dir>/broker.json``."""

    pid: int
    port: int
    controller_port: int
    data_dir: str
    started_at: float
    detached: bool

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"


class LocalBroker:
    """One broker process for one data directory."""

    def __init__(self, config: BrokerConfig, progress: Callable[[str], None] | None = None) -> None:
        self.config = config
        self._progress = progress or (lambda _msg: None)
        self._proc: subprocess.Popen[bytes] | None = None
        self.info: BrokerInfo | None = None

    @property
    def bootstrap(self) -> str:
        if self.info is None:
            raise BrokerNotRunning("the broker has not been started")
        return self.info.bootstrap

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, *, detach: bool = False) -> LocalBroker:
        """Fetch jars if needed, format storage, launch, and wait for an admin round trip."""
        java = _require_java()
        data = self.config.path.resolve()
        _refuse_if_running(data)
        libs = ensure_jars(Path(self.config.jars_cache) if self.config.jars_cache else None, self._progress)
        port = self.config.port or free_port()
        cport = self.config.controller_port or free_port()
        for taken in (p for p in (port, cport) if _port_open(p)):
            raise BrokerError(f"port {taken} on {LOOPBACK} is already in use; choose another (0 picks a free one)")
        properties = _prepare_data_dir(data, port, cport, self.config.partitions)
        classpath = f"{libs}/*"
        _format_storage(java, classpath, data, properties)
        self._progress(f"starting Kafka on {LOOPBACK}:{port} (data in {data})")
        out = open(data / "logs" / "broker.out", "ab")  # noqa: SIM115 - owned by the child from here
        try:
            self._proc = subprocess.Popen(
                [java, "-Xms512m", f"-Xmx{self.config.heap}", "-XX:+UseG1GC", "-cp", classpath,
                 f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={data / 'logs'}",
                 f"-Djava.io.tmpdir={data / 'tmp'}", "kafka.Kafka", str(properties)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=detach, preexec_fn=None if detach else _die_with_parent,
            )
        finally:
            out.close()
        self.info = BrokerInfo(self._proc.pid, port, cport, str(data), time.time(), detach)
        try:
            self._wait_ready((data / "cluster.id").read_text().strip())
        except BaseException:
            self.stop()
            raise
        (data / _STATE_FILE).write_bytes(msgspec.json.encode(self.info))
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout_s``; forget the state file."""
        if self.info is None:
            return
        _terminate(self.info.pid, self.config.stop_timeout_s, self._proc)
        (Path(self.info.data_dir) / _STATE_FILE).unlink(missing_ok=True)
        self.info = None
        self._proc = None

    def _wait_ready(self, cluster_id: str) -> ClusterInfo:
        """Ready when *our* cluster answers an admin round trip on our port."""
        assert self.info is not None and self._proc is not None
        deadline = time.monotonic() + self.config.ready_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"Kafka exited with code {self._proc.returncode} during start-up:\n"
                                  + log_tail(self.info.data_dir))
            if _port_open(self.info.port):
                try:
                    cluster = probe_cluster(self.info.bootstrap, timeout_s=min(5.0, self.config.ready_timeout_s))
                except BrokerError:
                    cluster = None
                if cluster is not None and cluster.cluster_id == cluster_id:
                    return cluster
                if cluster is not None:
                    raise BrokerError(f"another Kafka cluster ({cluster.cluster_id}) answers on {self.info.bootstrap}")
            time.sleep(0.1)
        raise BrokerError(f"Kafka was not ready within {self.config.ready_timeout_s:.0f}s:\n"
                          + log_tail(self.info.data_dir))


def running_broker(data_dir: str | Path) -> BrokerInfo:
    """The broker recorded in ``data_dir`` if its process is still alive, else BrokerNotRunning."""
    state = Path(data_dir).resolve() / _STATE_FILE
    try:
        info = msgspec.json.decode(state.read_bytes(), type=BrokerInfo)
    except FileNotFoundError:
        raise BrokerNotRunning(f"no broker is running for {Path(data_dir).resolve()}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise BrokerError(f"unreadable broker state {state}: {err}") from err
    if not _is_our_broker(info.pid, info.data_dir):
        state.unlink(missing_ok=True)
        raise BrokerNotRunning(f"the broker recorded in {state} (pid {info.pid}) is no longer running")
    return info


def stop_running_broker(data_dir: str | Path, timeout_s: float = 20.0) -> BrokerInfo:
    """Stop the broker recorded in ``data_dir``; returns what was stopped."""
    info = running_broker(data_dir)
    _terminate(info.pid, timeout_s, None)
    (Path(info.data_dir) / _STATE_FILE).unlink(missing_ok=True)
    return info


def log_tail(data_dir: str | Path, lines: int = 20) -> str:
    logs = Path(data_dir) / "logs"
    text: list[str] = []
    for name in ("broker.out", "server.log"):
        path = logs / name
        if path.exists():
            text += path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(text[-lines:]) or "(the broker wrote no log)"


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java 17+ is needed to run Kafka (Debian: apt-get install -y openjdk-17-jre-headless)")
    return java


def _refuse_if_running(data: Path) -> None:
    try:
        info = running_broker(data)
    except BrokerNotRunning:
        return
    raise BrokerError(f"a broker already runs for {data} (pid {info.pid}, {info.bootstrap})")


def _prepare_data_dir(data: Path, port: int, cport: int, partitions: int) -> Path:
    for sub in ("kraft", "logs", "tmp"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    properties = data / "server.properties"
    properties.write_text(render_properties(port=port, controller_port=cport, log_dir=data / "kraft",
                                            partitions=partitions))
    cluster_id_file = data / "cluster.id"
    if not cluster_id_file.exists():
        cluster_id_file.write_text(new_cluster_id())
    return properties


def _format_storage(java: str, classpath: str, data: Path, properties: Path) -> None:
    cluster_id = (data / "cluster.id").read_text().strip()
    cmd = [java, "-cp", classpath, f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
           f"-Dkafka.logs.dir={data / 'logs'}", "kafka.tools.StorageTool", "format",
           "--ignore-formatted", "--cluster-id", cluster_id, "--config", str(properties)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as err:
        raise BrokerError("formatting Kafka storage took longer than 120s") from err
    if done.returncode != 0:
        raise BrokerError(f"formatting Kafka storage in {data} failed:\n{(done.stdout + done.stderr).strip()}")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOOPBACK, port)) == 0


def _is_our_broker(pid: int, data_dir: str) -> bool:
    """True when ``pid`` is alive and is a Kafka JVM using ``data_dir`` (pids get reused)."""
    try:
        cmdline = psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False
    return "kafka.Kafka" in cmdline and str(Path(data_dir) / "server.properties") in cmdline


def _terminate(pid: int, timeout_s: float, proc: subprocess.Popen[bytes] | None) -> None:
    try:
        process = psutil.Process(pid)
        process.terminate()
        process.wait(timeout_s)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(10)
    if proc is not None:
        proc.wait(10)  # reap our child
