"""The `sluice` command line."""
from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from engine.cli import cluster, kafka, sandbox
from engine.cli.errors import run_cli
from engine.cli.up import up
from engine.logs import configure

app = typer.Typer(
    help="Sluice: a decentralized job execution engine (DDS control plane, Kafka data plane).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(sandbox.app, name="sandbox")
app.command()(up)
cluster.register(app)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs")] = False,
) -> None:
    configure(logging.DEBUG if debug else logging.ERROR)


def main() -> None:
    sys.exit(run_cli(app, sys.argv[1:]))
