"""`callscope report NAME`: one metric report as a table for people (Rich, localised, statuses
in colour) or as JSON / CSV / XLSX for machines. The command only builds the filter, calls the
metric layer and renders its `Report`; the JSON is `Report.as_json()`, the API's shape."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.common import DbOpt, TzOpt, app
from callscope.cli.common import load_cli_settings as _settings
from callscope.cli.logs import DateFrom, DateTo, _day
from callscope.errors import CallscopeError
from callscope.i18n import CATALOGUES, translate, value
from callscope.metrics import GROUPINGS, REPORTS, MetricFilter, Report, rowtext
from callscope.store import open_store

ReportName = StrEnum("ReportName", {n: n for n in REPORTS})  # type: ignore[misc]
Grouping = StrEnum("Grouping", {g: g for g in GROUPINGS})  # type: ignore[misc]


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class Lang(StrEnum):
    en = "en"
    ru = "ru"
    uk = "uk"


ReportFormatOpt = Annotated[ReportFormat, typer.Option("--format", help="table, json, csv or xlsx")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (xlsx needs one)")
]
LangOpt = Annotated[Lang | None, typer.Option("--lang", help="Table language (default: config)")]

# Columns a person reads in the terminal; JSON, CSV and XLSX carry every column.
TABLE_COLUMNS: dict[str, list[str]] = {
    "summary": ["calls", "inbound", "outbound", "internal", "offered", "answered", "missed",
                "missed_share", "asa_s", "service_level", "abandon_rate", "missed_contacts",
                "open_contacts", "attempted_contacts", "called_back", "called_back_within_sla"],
    "missed": ["first_missed_at", "external_number", "attempts", "end_stage", "agent", "status",
               "resolved_at", "time_to_resolution_s", "resolved_by_agent", "within_sla"],
    "agents": ["agent", "agent_name", "team", "offered", "answered", "rang_no_answer",
               "miss_rate", "lost_calls", "pickup_s_mean", "quick_hangups", "talk_s_mean",
               "missed_contacts", "never_called_back", "called_back", "called_back_within_sla",
               "paused_s", "outbound_calls"],
    "service": ["offered", "answered", "missed", "asr", "asa_s", "service_level",
                "abandon_rate", "short_abandons", "first_attempt_answer_rate", "talk_s_mean"],
}  # fmt: skip
SHARES = {"missed_share", "miss_rate", "asr", "service_level", "abandon_rate", "share",
          "cumulative_share", "first_attempt_answer_rate", "occupancy", "gini"}  # fmt: skip
STATUS_STYLE = {"open": "red", "attempted": "yellow", "called_back": "green",
                "recalled_by_customer": "green", "red": "red", "yellow": "yellow",
                "green": "green"}  # fmt: skip
ENUM_COLUMNS = {"status", "colour", "end_stage", "endpoint", "part", "kind"}
# Piped output is not squeezed into 80 columns: a report is wide.
out = Console(width=None if sys.stdout.isatty() else 200)


@app.command("report")
def report_command(
    name: Annotated[ReportName, typer.Argument(help="Which report")],
    date_from: DateFrom = None,
    date_to: DateTo = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="Team (repeatable)")] = None,
    agent: Annotated[
        list[str] | None, typer.Option("--agent", help="Agent id (repeatable)")
    ] = None,
    line: Annotated[
        list[str] | None, typer.Option("--line", help="Line dialled (repeatable)")
    ] = None,
    queue: Annotated[list[str] | None, typer.Option("--queue", help="Queue (repeatable)")] = None,
    number: Annotated[
        list[str] | None, typer.Option("--number", help="Customer number (repeatable)")
    ] = None,
    by: Annotated[Grouping | None, typer.Option("--by", help="service: group rows by")] = None,
    fmt: ReportFormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    lang: LangOpt = None,
    db: DbOpt = None,
    tz: TzOpt = None,
) -> None:
    """A metric report: summary, missed, agents, callbacks, service, patience, endpoints, load."""
    settings = _settings(db, tz)
    flt = MetricFilter(
        date_from=_day(date_from, "--from"),
        date_to=_day(date_to, "--to"),
        teams=tuple(team or ()),
        agents=tuple(agent or ()),
        lines=tuple(line or ()),
        queues=tuple(queue or ()),
        numbers=tuple(number or ()),
    )
    options: dict[str, Any] = {}
    if by is not None:
        if name.value != "service":
            raise CallscopeError("--by applies to the service report only")
        options["by"] = by.value
    if fmt is ReportFormat.xlsx and output is None:
        raise CallscopeError("--format xlsx writes a file: give --output report.xlsx")
    with open_store(settings.db, read_only=True) as store:
        report = REPORTS[name.value](store, flt, settings, **options)
    language = lang.value if lang else settings.lang
    if fmt in (ReportFormat.json, ReportFormat.csv):
        write_report(report, fmt, output)
    elif fmt is ReportFormat.xlsx:
        assert output is not None
        write_xlsx(report, output)
    else:
        render(report, language)


def write_report(report: Report, fmt: ReportFormat, output: Path | None) -> None:
    """JSON (`Report.as_json()`) or CSV (every column): a report that kept its rows as Arrow
    is written from Arrow as it is made, the same bytes its Python rows would give."""
    table = report.table
    if fmt is ReportFormat.json and table is not None:
        _write_chunks(chain(rowtext.json_chunks(report, rowtext.CLI_JSON), [b"\n"]), output)
    elif fmt is ReportFormat.json:
        _write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=1, default=str), output)
    elif table is not None:
        # The rows' columns, as `_fields` finds them in Python rows (none when there are none).
        _write_chunks(
            rowtext.csv_chunks(table, table.column_names if table.num_rows else []), output
        )
    else:
        _write_csv(report, output)


@app.command("summary")
def summary_command(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fmt: ReportFormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    lang: LangOpt = None,
    db: DbOpt = None,
    tz: TzOpt = None,
) -> None:
    """The one-screen digest: the same report as `callscope report summary`."""
    report_command(
        ReportName("summary"), date_from=date_from, date_to=date_to, team=None, agent=None,
        line=None, queue=None, number=None, by=None, fmt=fmt, output=output, lang=lang, db=db,
        tz=tz,
    )  # fmt: skip


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")


def _write_chunks(chunks: Iterable[bytes | memoryview], output: Path | None) -> None:
    """UTF-8 pieces of a big report, written as they are made (not joined in memory first)."""
    if output is None:
        sys.stdout.flush()
        raw = getattr(sys.stdout, "buffer", None)
        for chunk in chunks:
            if raw is not None:
                raw.write(chunk)
            else:
                sys.stdout.write(bytes(chunk).decode())
        if raw is not None:
            raw.flush()
        return
    with output.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


def _fields(rows: list[dict[str, Any]]) -> list[str]:
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    return fields


def _write_csv(report: Report, output: Path | None) -> None:
    fields = _fields(report.rows)
    handle = sys.stdout if output is None else output.open("w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows([[rowtext.list_text(r.get(f)) for f in fields] for r in report.rows])
    finally:
        if output is not None:
            handle.close()


def write_xlsx(report: Report, path: Path) -> None:
    """Rows on the first sheet, each list block (totals, distributions) on its own sheet, and
    the period, settings and formulas on the last."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = report.report
    blocks: dict[str, list[dict[str, Any]]] = {report.report: report.rows}
    for key, block in report.extra.items():
        if isinstance(block, list):
            blocks[key] = block
        elif isinstance(block, dict):
            blocks[key] = [block]
    for i, (title, rows) in enumerate(blocks.items()):
        ws = sheet if i == 0 else book.create_sheet(title[:31])
        fields = _fields(rows)
        ws.append(fields)
        for r in rows:
            ws.append([rowtext.list_text(r.get(f)) for f in fields])
    about = book.create_sheet("settings")
    for key, val in [("period", report.period), *report.settings.items(), *report.formulas.items()]:
        about.append([key, json.dumps(val, ensure_ascii=False, default=str)])
    book.save(path)


def column(key: str, lang: str) -> str:
    """A header: the column's word, else the value's (status names head the totals)."""
    if f"col.{key}" in CATALOGUES["en"] or f"val.{key}" not in CATALOGUES["en"]:
        return translate(f"col.{key}", lang)
    return value(key, lang)


def duration(seconds: float) -> str:
    """m:ss (h:mm:ss from an hour): a bare "3" next to "Avg wait" reads as minutes."""
    s = round(seconds)
    if abs(s) < 3600:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def fmt_value(key: str, v: Any, lang: str) -> str:
    if v is None:
        return "—"
    is_number = isinstance(v, int | float) and not isinstance(v, bool)
    if (key.endswith("_s") or "_s_" in key) and is_number:
        return duration(float(v))
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if key in ENUM_COLUMNS and isinstance(v, str):
        text = value("kind_agent" if v == "agent" and key == "kind" else v, lang)
        style = STATUS_STYLE.get(v)
        return f"[{style}]{text}[/]" if style else text
    if isinstance(v, float):
        if key in SHARES:
            return f"{v:.1%}"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return str(rowtext.list_text(v))
    if isinstance(v, str) and len(v) >= 19 and v[10] == "T":
        return v[:16].replace("T", " ")
    return str(v)


def _table(title: str, rows: list[dict[str, Any]], fields: list[str], lang: str) -> Table:
    table = Table(title=title, title_justify="left")
    for f in fields:
        # next to the name, the agent id is what it is: the extension
        head = "extension" if f == "agent" and "agent_name" in fields else f
        table.add_column(column(head, lang), justify="left" if f in ENUM_COLUMNS else "right")
    for r in rows:
        table.add_row(*[fmt_value(f, r.get(f), lang) for f in fields])
    return table


def render(report: Report, lang: str) -> None:
    p = report.period
    span = (
        f"{p['from'] or '…'} – {p['to'] or '…'}"
        if p["from"] or p["to"]
        else translate("cli.all_time", lang)
    )
    title = f"{translate(f'report.{report.report}', lang)} · {span} ({p['tz']})"
    rows = report.rows
    if report.report == "load":
        out.print(_heatmap(title, rows, lang))
    elif report.report == "summary" and rows:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("")
        table.add_column("", justify="right")
        for f in TABLE_COLUMNS["summary"]:
            table.add_row(column(f, lang), fmt_value(f, rows[0].get(f), lang))
        out.print(table)
    else:
        fields = TABLE_COLUMNS.get(report.report) or _fields(rows)
        if report.report == "service":
            by = str(report.settings.get("by", "day"))
            fields = [by, *fields]
            rows = [*rows, {by: translate("cli.totals", lang), **report.extra["totals"]}]
        if report.report == "agents":
            rows = [
                {**r, "agent": value("team_average", lang)} if r["kind"] != "agent" else r
                for r in rows
            ]
        out.print(_table(title, rows, fields, lang))
        if not rows:
            out.print(translate("cli.none", lang))
    for key, block in report.extra.items():
        if report.report == "service" and key == "totals":
            continue  # shown as the last row of the main table
        if isinstance(block, dict) and len(block) > 6:
            table = Table(title=translate(f"cli.{key}", lang), title_justify="left")
            table.add_column("")
            table.add_column("", justify="right")
            for k, v in block.items():
                table.add_row(column(k, lang), fmt_value(k, v, lang))
            out.print(table)
            continue
        blocks = [block] if isinstance(block, dict) else block
        if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict):
            out.print(_table(translate(f"cli.{key}", lang), blocks, _fields(blocks), lang))
        elif block is not None and not isinstance(block, list):
            out.print(f"{column(key, lang)}: {fmt_value(key, block, lang)}")
    shown = {k: v for k, v in report.settings.items() if k not in ("tenant", "filter")}
    out.print(
        f"[dim]{translate('cli.settings', lang)}: "
        + "; ".join(f"{k}={v}" for k, v in shown.items())
        + "[/dim]",
        highlight=False,
    )


def _heatmap(title: str, rows: list[dict[str, Any]], lang: str) -> Table:
    """Offered calls as a weekday x hour grid, the busiest cells brightest."""
    days = translate("cli.weekdays", lang).split()
    cells = {(r["weekday"], r["hour"]): int(r["offered"]) for r in rows}
    top = max(cells.values(), default=0)
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for h in range(24):
        table.add_column(f"{h:02d}", justify="right")
    for d in range(1, 8):
        line = []
        for h in range(24):
            n = cells.get((d, h), 0)
            style = ""
            if top and n >= 0.5 * top:
                style = "bold red" if n >= 0.8 * top else "yellow"
            line.append(f"[{style}]{n}[/]" if style and n else (str(n) if n else "·"))
        table.add_row(days[d - 1], *line)
    return table
