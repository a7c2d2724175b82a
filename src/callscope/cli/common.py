"""What every `callscope` command shares: the Typer app, consoles, the common options and the
settings they load. Commands live in modules named for what they do and register on `app`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from callscope.settings import Settings, load_settings

if TYPE_CHECKING:
    from callscope.store import Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="callscope: missed calls, callbacks and agent figures from what your PBX records.",
)
out = Console()
err = Console(stderr=True)
# An open dashboard tab holds a server-sent event stream forever: on Ctrl-C the server gives
# such connections this long, then stops anyway.
SHUTDOWN_GRACE_S = 3


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="callscope.toml (default: $CALLSCOPE_CONFIG or ./callscope.toml)"
    ),
]
DbOpt = Annotated[Path | None, typer.Option("--db", help="Database file (default from config)")]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="Time zone of the logs and reports (default from config)")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv")]


class State:
    config: Path | None = None


@app.callback()
def _root(config: ConfigOpt = None) -> None:
    State.config = config


def load_cli_settings(db: Path | None = None, tz: str | None = None) -> Settings:
    """Settings from the --config file (or its defaults) with the command's overrides."""
    return load_settings(State.config, db=db, timezone=tz)


def keep_contacts_current(store: Store, settings: Settings) -> None:
    """Before a long-running server answers, rebuild the kept missed contacts and the marks of
    first calls of the day if they were built under other settings (or by an older version, or
    never: a store just migrated): otherwise every report would compute them from the calls
    until the next import, seconds per request on a big store."""
    from callscope.metrics.contacts_table import ensure_contacts
    from callscope.metrics.first_calls import ensure_first_calls

    done = ensure_contacts(store, settings)
    if done is not None:
        out.print(
            f"missed contacts rebuilt for the current settings: {done['contacts']:,} contacts"
            f" in {done['ms'] / 1000:.1f} s"
        )
    marked = ensure_first_calls(store, settings)
    if marked is not None:
        out.print(
            f"first calls of the day marked for the current time zone: {marked['firsts']:,}"
            f" calls in {marked['ms'] / 1000:.1f} s"
        )
