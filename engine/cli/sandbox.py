"""`sluice sandbox run`: run one command in the Sluice sandbox, for operators and scripts."""
from __future__ import annotations

import sys
from typing import Annotated

import msgspec
import typer

from engine.cli.units import parse_duration, parse_size
from engine.model import InvalidInput

app = typer.Typer(help="Run commands isolated in the Sluice sandbox.", no_args_is_help=True)

# Exit codes for outcomes without a job exit code, as `timeout` and shells use them.
_EXIT_FOR = {"timed_out": 124, "sandbox_error": 125}


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": False})
def run(
    argv: Annotated[list[str], typer.Argument(help="The command, after --")],
    memory: Annotated[str, typer.Option(help="Memory limit, RAM + swap (e.g. 64M)")] = "512M",
    pids: Annotated[int, typer.Option(help="Most processes at once")] = 256,
    cpus: Annotated[float | None, typer.Option(help="CPU quota in cores (e.g. 0.5)")] = None,
    timeout: Annotated[str, typer.Option(help="Wall-clock limit (e.g. 2s, 500ms, 1m)")] = "1h",
    network: Annotated[str, typer.Option(help="none, or loopback (a private lo)")] = "none",
    output: Annotated[str, typer.Option(help="Captured bytes per stream")] = "1M",
    json: Annotated[bool, typer.Option("--json", help="Print the Outcome as one JSON object")] = False,
) -> None:
    """Run ARGV in the sandbox and exit with its exit code (124 timed out, 125 sandbox error, 128+N signal)."""
    from sandbox import Limits, run as sandbox_run

    if network not in ("none", "loopback"):
        raise InvalidInput(f"--network must be none or loopback, not {network!r}")
    try:
        limits = Limits(memory_bytes=parse_size(memory), pids=pids, timeout_s=parse_duration(timeout),
                        millicores=None if cpus is None else max(1, round(cpus * 1000)),
                        network=network, output_bytes=parse_size(output))
    except msgspec.ValidationError as err:
        raise InvalidInput(f"invalid limit: {err}") from err
    outcome = sandbox_run(list(argv), limits)
    if json:
        fields = msgspec.structs.asdict(outcome)
        fields.update(stdout=outcome.stdout.decode(errors="replace"), stderr=outcome.stderr.decode(errors="replace"))
        print(msgspec.json.encode(fields).decode())
    else:
        sys.stdout.buffer.write(outcome.stdout)
        sys.stderr.buffer.write(outcome.stderr)
        peak = f"{outcome.peak_memory_bytes / (1 << 20):.1f} MiB" if outcome.peak_memory_bytes else "n/a"
        print(f"sluice: {outcome.reason.value}{': ' + outcome.detail if outcome.detail else ''} "
              f"(wall {outcome.wall_s:.3f}s, cpu {outcome.cpu_user_s + outcome.cpu_system_s:.3f}s, peak {peak})",
              file=sys.stderr)
    raise typer.Exit(_exit_code(outcome))


def _exit_code(outcome) -> int:
    if outcome.reason.value in _EXIT_FOR:
        return _EXIT_FOR[outcome.reason.value]
    if outcome.exit_code is not None:
        return outcome.exit_code
    return 128 + (outcome.signal or 9)
