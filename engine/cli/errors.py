"""How errors reach people: one line and an exit code per kind, a traceback only with --debug."""
from __future__ import annotations

import sys
from collections.abc import Callable

import typer

from control_plane.errors import ControlPlaneError
from data_plane.errors import BrokerNotRunning, DataPlaneError
from engine.model import InvalidInput
from sandbox.errors import SandboxError, SandboxUnavailable

# Most specific first. 3 mirrors `systemctl status` for "not running".
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (BrokerNotRunning, 3),
    (InvalidInput, 65),  # EX_DATAERR
    (DataPlaneError, 69),  # EX_UNAVAILABLE
    (ControlPlaneError, 69),
    (SandboxUnavailable, 69),
    (SandboxError, 70),  # EX_SOFTWARE
    (TimeoutError, 75),  # EX_TEMPFAIL
    (OSError, 74),  # EX_IOERR
]


def exit_code_for(err: BaseException) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(err, kind):
            return code
    return 1


def run_cli(app: Callable[..., object], argv: list[str]) -> int:
    """Run the typer app; map every known error to one line on stderr and an exit code."""
    debug = "--debug" in argv
    try:
        result = app(args=argv, prog_name="sluice", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("sluice: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the one place errors become exit codes
        if _is_usage_error(err):
            err.show()  # type: ignore[attr-defined]
            return err.exit_code  # type: ignore[attr-defined]
        if debug:
            raise
        message = str(err).splitlines() or [type(err).__name__]
        print(f"sluice: error: {message[0]}", file=sys.stderr)
        if len(message) > 1:
            print("  (run with --debug for details)", file=sys.stderr)
        return exit_code_for(err)
    return result if isinstance(result, int) else 0


def _is_usage_error(err: Exception) -> bool:
    """Click's (or typer's vendored click's) own errors: they print themselves."""
    return isinstance(err, typer.TyperException) or (hasattr(err, "show") and hasattr(err, "exit_code"))
