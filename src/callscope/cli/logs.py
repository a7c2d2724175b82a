"""Commands over imported logs: `import`, `calls`, `rejects`."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callscope.calllog import CallFilter, list_calls
from callscope.cli.common import DbOpt, FormatOpt, OutputFormat, TzOpt, app, err, out
from callscope.cli.common import load_cli_settings as _settings
from callscope.errors import CallscopeError
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.sources import FILE_FORMATS
from callscope.store import open_store


class Outcome(StrEnum):
    answered = "answered"
    missed = "missed"


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Log files (.gz read directly)")],
    fmt: Annotated[
        str, typer.Option("--format", help=f"auto or one of: {', '.join(FILE_FORMATS)}")
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Mapping file for --format mapped-csv")
    ] = None,
    db: DbOpt = None,
    tz: TzOpt = None,
) -> None:
    """Import PBX logs: keep every record, reject bad lines with a reason, assemble calls."""
    settings = _settings(db, tz)
    with (
        open_store(settings.db) as store,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("importing", total=len(paths))

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"importing {Path(name).name}", completed=done)

        summary = import_files(
            store, paths, fmt=fmt, settings=settings, mapping=mapping, progress=progress
        )
    for f in summary.files:
        if f.status == "failed":
            err.print(f"[red]error[/red] {f.error}")
        else:
            extra = f" ({'; '.join(f.notes)})" if f.notes else ""
            out.print(
                f"{f.file}: {f.format}, {f.records_read} records, {f.records_new} new, "
                f"{f.rejects} rejected, encoding {f.encoding}{extra}"
            )
    out.print(
        f"records read {summary.records_read}, new {summary.records_new}, "
        f"calls {summary.total_calls}, legs {summary.legs}, "
        f"agent states {summary.agent_states}, rejects {summary.rejects}"
    )
    if summary.failed:
        raise typer.Exit(3)


def _filter(
    settings: Settings,
    date_from: date | None,
    date_to: date | None,
    number: str | None = None,
    agent: str | None = None,
    outcome: str | None = None,
    limit: int | None = None,
) -> CallFilter:
    return CallFilter(
        tenant=settings.tenant,
        timezone=settings.timezone,
        date_from=date_from,
        date_to=date_to,
        number=number,
        agent=agent,
        outcome=outcome,
        limit=limit,
    )


DateFrom = Annotated[
    str | None, typer.Option("--from", help="First day (YYYY-MM-DD, tenant time zone)")
]
DateTo = Annotated[str | None, typer.Option("--to", help="Last day, inclusive (YYYY-MM-DD)")]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CallscopeError(f"{option}: not a date (YYYY-MM-DD): {text!r}") from None


@app.command("calls")
def calls_command(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    number: Annotated[str | None, typer.Option("--number", help="Customer number")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Agent id (extension)")] = None,
    outcome: Annotated[Outcome | None, typer.Option("--outcome")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many calls")] = None,
    output: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
    tz: TzOpt = None,
) -> None:
    """List calls with their legs."""
    settings = _settings(db, tz)
    flt = _filter(
        settings,
        _day(date_from, "--from"),
        _day(date_to, "--to"),
        number,
        agent,
        outcome.value if outcome else None,
        limit,
    )
    with open_store(settings.db, read_only=True) as store:
        rows = list_calls(store, flt, settings.region)
    if output is OutputFormat.json:
        json.dump([r.as_json() for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    if output is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        fields = [
            "call_id",
            "direction",
            "started_at",
            "external_number",
            "line",
            "outcome",
            "end_stage",
            "answered_by",
            "wait_s",
            "talk_s",
            "queue",
            "legs",
        ]
        writer.writerow(fields)
        for r in rows:
            data = r.as_json()
            data["legs"] = " ".join(
                f"{leg['agent'] or leg['destination_kind']}:{leg['result']}" for leg in data["legs"]
            )
            writer.writerow([data[f] for f in fields])
        return
    table = Table(title=f"{len(rows)} calls ({settings.timezone})")
    for col in (
        "started",
        "dir",
        "number",
        "line",
        "outcome",
        "stage",
        "by",
        "wait",
        "talk",
        "legs",
    ):
        table.add_column(col)
    colour = {"missed": "red", "answered": "green"}
    for r in rows:
        legs = ", ".join(f"{leg.agent or leg.destination_kind} {leg.result}" for leg in r.legs)
        table.add_row(
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.direction,
            r.external_number or "",
            r.line or "",
            f"[{colour.get(r.outcome, 'yellow')}]{r.outcome}[/]",
            r.end_stage or "",
            r.answered_by or "",
            _secs(r.wait_s),
            _secs(r.talk_s),
            legs,
        )
    out.print(table)


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


@app.command("rejects")
def rejects_command(
    output: FormatOpt = OutputFormat.table,
    limit: Annotated[int, typer.Option("--limit")] = 1000,
    db: DbOpt = None,
) -> None:
    """Lines that could not be imported: file, line, field, reason and the raw text."""
    settings = _settings(db)
    with open_store(settings.db, read_only=True) as store:
        t = store.ibis.table("rejects")
        rows: list[dict[str, Any]] = (
            t.filter(t.tenant == settings.tenant)
            .order_by(["import_id", "line_no"])
            .limit(limit)
            .to_pyarrow()
            .to_pylist()
        )
    fields = ["file", "format", "line_no", "field", "reason", "raw"]
    if output is OutputFormat.json:
        json.dump(
            [{k: r[k] for k in fields} for r in rows], sys.stdout, ensure_ascii=False, indent=1
        )
        sys.stdout.write("\n")
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(fields)
        writer.writerows([[r[k] for k in fields] for r in rows])
    else:
        table = Table(title=f"{len(rows)} rejects")
        for col in ("file", "line", "field", "reason"):
            table.add_column(col)
        for r in rows:
            table.add_row(Path(r["file"]).name, str(r["line_no"]), r["field"] or "", r["reason"])
        out.print(table)
