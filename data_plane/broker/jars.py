"""The broker's jars: resolved from Maven Central once through our pom.xml, then cached.

The cache lives outside the checkout (``~/.cache/sluice/kafka-jars/<pom digest>``),
is filled in a temporary directory and renamed into place, and is marked complete
only when Maven succeeded, so an interrupted fetch never leaves a half cache.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from data_plane.errors import JarsUnavailable

POM = Path(__file__).with_name("pom.xml")
_MARKER = ".complete"
_FETCH_TIMEOUT_S = 900


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sluice" / "kafka-jars"


def cached_libs_dir(cache_root: Path | None = None) -> Path:
    """Where the jars for this pom.xml live once fetched (they may not be there yet)."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return (cache_root or default_cache_root()) / digest


def ensure_jars(cache_root: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Return the directory of broker jars, fetching them with Maven on first use."""
    libs = cached_libs_dir(cache_root)
    if (libs / _MARKER).exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsUnavailable(
            "Kafka jars are not cached and Maven (mvn) is not installed: "
            "install Maven and Java 17 (Debian: apt-get install -y maven openjdk-17-jre-headless)"
        )
    libs.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"fetching Kafka broker jars from Maven Central into {libs} (about 45 MB, once)")
    with tempfile.TemporaryDirectory(dir=libs.parent, prefix=".fetch-") as tmp:
        out = Path(tmp) / "libs"
        cmd = [mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
               "-DincludeScope=runtime", f"-DoutputDirectory={out}"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=_FETCH_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as err:
            raise JarsUnavailable(f"Maven did not finish fetching Kafka jars within {_FETCH_TIMEOUT_S}s") from err
        jars = list(out.glob("*.jar")) if out.exists() else []
        if done.returncode != 0 or not any(j.name.startswith("kafka_2.13-") for j in jars):
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            raise JarsUnavailable("Maven could not fetch the Kafka jars:\n" + "\n".join(tail))
        (out / _MARKER).write_text(f"{len(jars)} jars\n")
        shutil.rmtree(libs, ignore_errors=True)
        out.rename(libs)
    if progress:
        progress(f"cached {len(jars)} jars")
    return libs
