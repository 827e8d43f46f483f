"""The mypyc-compiled scheduler modules: built, in use, and deciding exactly as the sources do."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine import compiled

REPLAY = Path(__file__).with_name("scheduler_replay.py")


def replay(*, interpreted: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != compiled.INTERPRETED_ENV}
    if interpreted:
        env[compiled.INTERPRETED_ENV] = "1"
    done = subprocess.run([sys.executable, str(REPLAY)], env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_build_is_used_only_for_the_sources_it_was_built_from(tmp_path, monkeypatch):
    sources, cache = tmp_path / "sources", tmp_path / "cache"
    sources.mkdir()
    for name in compiled.MODULES:
        (sources / f"{name}.py").write_bytes((compiled.PACKAGE_DIR / f"{name}.py").read_bytes())
    assert not compiled.activate([], cache, sources)  # nothing built yet
    built = compiled.build_dir(cache, sources)
    (built / "modules").mkdir(parents=True)
    (built / ".complete").touch()
    monkeypatch.setattr(sys, "path", list(sys.path))
    path: list[str] = []
    assert compiled.activate(path, cache, sources) and path == [str(built / "modules")]
    with monkeypatch.context() as env:
        env.setenv(compiled.INTERPRETED_ENV, "1")
        assert not compiled.activate([], cache, sources)
    (sources / "fit.py").write_text((sources / "fit.py").read_text() + "\n# edited\n")
    assert compiled.build_dir(cache, sources) != built
    assert not compiled.activate([], cache, sources)  # the stale build is never used


def test_compiled_modules_are_built_and_in_use():
    compiled.build()  # dev/setup built them; this is then a no-op
    assert replay(interpreted=False)["compiled"] is True


def test_compiled_and_interpreted_sources_make_the_same_decisions():
    compiled.build()
    fast, slow = replay(interpreted=False), replay(interpreted=True)
    assert fast["compiled"] and not slow["compiled"]
    assert fast["assignments"] > 500 and fast["preemptions"] > 0 and fast["refused"] > 0 and fast["nodes_lost"]
    assert fast == {**slow, "compiled": True}


def test_no_struct_is_defined_in_a_compiled_module():
    """mypyc drops a msgspec Struct's class options (frozen, gc): Structs belong in records.py."""
    import importlib
    import inspect

    import msgspec

    for name in compiled.MODULES:
        module = importlib.import_module(f"engine.scheduler.{name}")
        defined = [cls.__name__ for _, cls in inspect.getmembers(module, inspect.isclass)
                   if issubclass(cls, msgspec.Struct) and cls.__module__ == module.__name__]
        assert defined == [], f"{module.__name__} defines {defined}; move them to engine/scheduler/records.py"
