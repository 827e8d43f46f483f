"""The scheduler's hot modules compiled with mypyc, used when a build of these exact sources exists.

This is packaging, not policy: it lives outside ``engine.scheduler`` (which does no
I/O) and is applied when ``engine`` is imported, before any scheduler module is.

Placement is pure Python over many small objects, where the interpreter's cost per
operation dominates. mypyc compiles the same annotated sources into C extension
modules, which run the same code ~1.7x faster (``python -m benchmarks.scheduler``
measures both in one run).

- ``compiled.build()`` (run by ``dev/setup``) builds them once into
  ``~/.cache/sluice/scheduler-<digest>``. The digest covers the sources and the Python
  version, so an edited source never runs stale compiled code: the digest no longer
  matches, and the package imports its sources, which make the same decisions.
- ``SLUICE_SCHEDULER_INTERPRETED=1`` makes the package import its sources regardless.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.paths import cache_dir

MODULES = ("cluster", "fit", "placement", "plugins", "queues", "preemption", "scheduler")
INTERPRETED_ENV = "SLUICE_SCHEDULER_INTERPRETED"
PACKAGE_DIR = Path(__file__).parent / "scheduler"  # the sources compiled
_MARKER = ".complete"
_BUILD_TIMEOUT_S = 600


class CompileFailed(RuntimeError):
    """mypyc could not build the scheduler modules (the interpreted sources still work)."""


def build_dir(cache_root: Path | None = None, sources: Path = PACKAGE_DIR) -> Path:
    """Where the build of the modules in ``sources`` lives (it may not exist yet)."""
    digest = hashlib.sha256(sys.version.encode())
    for name in MODULES:
        digest.update((sources / f"{name}.py").read_bytes())
    return (cache_root or cache_dir()) / f"scheduler-{digest.hexdigest()[:12]}"


def activate(package_path: list[str], cache_root: Path | None = None, sources: Path = PACKAGE_DIR) -> bool:
    """Put a build of ``sources`` ahead of them on the package's path; False when there is none."""
    if os.environ.get(INTERPRETED_ENV):
        return False
    built = build_dir(cache_root, sources)
    if not (built / _MARKER).is_file():
        return False
    package_path.insert(0, str(built / "modules"))
    sys.path.append(str(built / "runtime"))  # mypyc's shared library, imported by top-level name
    return True


def activate_scheduler() -> bool:
    """Called by ``engine/__init__``: the scheduler package imports the build when one matches."""
    import engine.scheduler  # the package alone: its modules are imported later, through its __path__

    return activate(engine.scheduler.__path__)


def in_use() -> bool:
    """Whether the scheduler modules imported in this process are the compiled ones."""
    from engine.scheduler import scheduler

    return not (scheduler.__file__ or "").endswith(".py")


def build(cache_root: Path | None = None) -> Path:
    """Compile the modules of the current sources with mypyc, once; returns the build's directory."""
    target = build_dir(cache_root)
    if (target / _MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        work = Path(tmp)
        # mypy type-checks what the modules import, so it gets the whole engine package.
        shutil.copytree(PACKAGE_DIR.parent, work / "engine", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        sources = [f"engine/scheduler/{name}.py" for name in MODULES]
        try:
            done = subprocess.run([sys.executable, "-m", "mypyc", "--follow-imports=silent", *sources], cwd=work,
                                  capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False)
        except FileNotFoundError as e:
            raise CompileFailed(f"cannot run mypyc: {e}") from e
        if done.returncode != 0:
            lines = [line for line in (done.stdout + done.stderr).splitlines() if "error" in line.lower()]
            raise CompileFailed("mypyc failed (pip install mypy; the sources must type-check):\n"
                                + "\n".join(lines[-20:] or (done.stdout + done.stderr).splitlines()[-20:]))
        staged = work / "staged"
        (staged / "modules").mkdir(parents=True)
        (staged / "runtime").mkdir()
        for name in MODULES:
            (library,) = (work / "engine" / "scheduler").glob(f"{name}.*.so")
            library.rename(staged / "modules" / library.name)
        for library in work.glob("*__mypyc.*.so"):
            library.rename(staged / "runtime" / library.name)
        (staged / _MARKER).touch()
        try:
            staged.rename(target)
        except OSError:
            if not (target / _MARKER).is_file():  # else a concurrent build of the same sources won
                raise
    return target


def main() -> None:
    """Build (or find) the compiled modules; exit with one clear line when mypyc fails."""
    try:
        path = build()
    except CompileFailed as e:
        sys.exit(f"sluice: {e}")
    print(f"... compiled scheduler modules in {path}")

