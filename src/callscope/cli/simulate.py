"""`callscope simulate` (a synthetic PBX history in any log format, with its ground truth) and
`callscope demo` (a believable company imported into the database in one command)."""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from callscope.cli.common import DbOpt, State, app, err, out
from callscope.cli.common import load_cli_settings as _settings
from callscope.errors import ConfigError
from callscope.importer import import_files
from callscope.simulate import builtin_profiles, load_profile, simulate
from callscope.simulate.compare import import_settings, settings_toml
from callscope.simulate.writers import ASTERISK, WRITERS, write_history
from callscope.store import open_store

DEMO_PROFILE = "dental-clinic"


def _start(text: str | None, days: int) -> date:
    if text is None:
        return date.today() - timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--start: {text!r} is not a date (YYYY-MM-DD)") from exc


@app.command("simulate")
def simulate_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the log files")],
    profile: Annotated[
        str,
        typer.Option(
            "--profile", help=f"Built-in ({', '.join(builtin_profiles())}) or a TOML file"
        ),
    ] = DEMO_PROFILE,
    days: Annotated[int, typer.Option("--days", min=1, help="Days to simulate")] = 7,
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: N days ago)")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes")] = 1,
    formats: Annotated[
        str, typer.Option("--formats", help=f"Comma-separated: {', '.join(WRITERS)}")
    ] = ",".join(ASTERISK),
) -> None:
    """Simulate a company's PBX and write its logs, ground-truth.jsonl and callscope.toml."""
    spec = load_profile(profile)
    began = time.perf_counter()
    trace = simulate(spec, _start(start, days), days, seed)
    names = [f.strip() for f in formats.split(",") if f.strip()]
    written = write_history(trace, spec, out_dir, names)
    out.print(
        f"{spec.name}: {len(trace.calls)} calls over {days} days "
        f"in {time.perf_counter() - began:.1f} s"
    )
    for path in written:
        out.print(f"  {path}")
    out.print(f"import with: callscope --config {out_dir / 'callscope.toml'} import ...")


@app.command("demo")
def demo_command(
    db: DbOpt = None,
    days: Annotated[int, typer.Option("--days", min=1, max=120, help="Weeks back, in days")] = 21,
    profile: Annotated[str, typer.Option("--profile", help="Company to simulate")] = DEMO_PROFILE,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    config_out: Annotated[
        Path | None,
        typer.Option(
            "--config-out",
            help="Also write the company's callscope.toml here (agents' names and teams, "
            "time zone, database), so `serve` and `report` show it as configured",
        ),
    ] = None,
) -> None:
    """Fill the database with a few weeks of a believable company (simulated Asterisk logs,
    imported as a user's own would be), then print the summary."""
    base = _settings(db, None)
    spec = load_profile(profile)
    began = time.perf_counter()
    trace = simulate(spec, date.today() - timedelta(days=days), days, seed)
    settings = import_settings(trace).model_copy(
        update={"db": base.db, "tenant": base.tenant, "lang": base.lang}
    )
    with tempfile.TemporaryDirectory(prefix="callscope-demo-") as work:
        files = [
            p
            for p in write_history(trace, spec, Path(work), ASTERISK)
            if p.name in ("Master.csv", "queue_log", "cel.csv")
        ]
        with open_store(settings.db) as store:
            summary = import_files(store, files, settings=settings)
    for failed in summary.failed:
        err.print(f"[red]error[/red] {failed.error}")
    out.print(
        f"demo: {spec.name}, {days} days, {len(trace.calls)} calls simulated, "
        f"{summary.total_calls} calls in {settings.db} "
        f"({time.perf_counter() - began:.1f} s)"
    )
    if config_out is not None:
        head, _, rest = settings_toml(trace).partition("\n")
        config_out.write_text(
            f'{head}\ndb = "{Path(settings.db).as_posix()}"\n{rest}', encoding="utf-8"
        )
        out.print(f"configuration written to {config_out}")
        State.config = config_out  # the summary below names the agents as configured
    from callscope.cli.report import summary_command

    summary_command(date_from=None, date_to=None, db=settings.db, tz=settings.timezone)
