"""A report's rows as Arrow: times in the tenant's zone exactly as before (across daylight-saving
changes, half-hour zones), Python rows only on demand, and JSON / CSV written from Arrow byte for
byte as the Python writers write the same rows (`callscope report missed --format json|csv`)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

import test_metrics_scenarios as sc
from callscope.cli import app
from callscope.cli.common import load_cli_settings
from callscope.metrics import MetricFilter, missed, rowtext
from callscope.metrics.report import Report, arrow_rows, iso_instants
from callscope.store import open_store


def reference(instants: pa.Array, zone: str) -> pa.Array:
    """How times were formatted before: strftime under the zone, then "+0300" -> "+03:00"."""
    instant = instants.cast(pa.timestamp("s"), safe=False).cast(pa.timestamp("s", tz="UTC"))
    text = pc.strftime(instant.cast(pa.timestamp("s", tz=zone)), format="%Y-%m-%dT%H:%M:%S%z")
    return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")


def utc(*texts: str | None) -> pa.Array:
    return pa.array([datetime.fromisoformat(t) if t else None for t in texts], pa.timestamp("us"))


@pytest.mark.parametrize(
    ("zone", "instants", "expected"),
    [
        # Berlin springs forward at 01:00 UTC on 2025-03-30 and falls back at 01:00 on 10-26.
        (
            "Europe/Berlin",
            utc("2025-03-30 00:59:59.999", "2025-03-30 01:00:00", None, "2025-10-26 00:30:00",
                "2025-10-26 01:30:00"),
            ["2025-03-30T01:59:59+01:00", "2025-03-30T03:00:00+02:00", None,
             "2025-10-26T02:30:00+02:00", "2025-10-26T02:30:00+01:00"],
        ),
        (
            "America/New_York",
            utc("2025-03-09 06:59:59", "2025-03-09 07:00:00", "2025-11-02 05:30:00",
                "2025-11-02 06:30:00"),
            ["2025-03-09T01:59:59-05:00", "2025-03-09T03:00:00-04:00",
             "2025-11-02T01:30:00-04:00", "2025-11-02T01:30:00-05:00"],
        ),
        ("Europe/Moscow", utc("2026-01-12 07:00:00.5"), ["2026-01-12T10:00:00+03:00"]),
        ("Asia/Kolkata", utc("2026-01-12 07:00:00"), ["2026-01-12T12:30:00+05:30"]),
        ("Asia/Kolkata", utc(None, None), [None, None]),
    ],
)  # fmt: skip
def test_instants_read_in_the_zone_with_the_offset_they_had(
    zone: str, instants: pa.Array, expected: list[str | None]
) -> None:
    assert iso_instants(instants, zone).to_pylist() == expected
    assert iso_instants(instants, zone).equals(reference(instants, zone))


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Africa/Monrovia"]
)
def test_a_century_of_instants_formats_as_the_reference_does(zone: str) -> None:
    """Every 7 hours and 13 minutes from 1950 to 2040 (Monrovia's offset had seconds until
    1972, Lord Howe moves by half an hour), in two chunks."""
    step = (7 * 3600 + 13 * 60 + 11) * 1_000_000
    first = int(datetime(1950, 1, 1).timestamp()) * 1_000_000
    values = list(range(first, first + 110_000 * step, step))
    chunked = pa.chunked_array([pa.array(values[:500]), pa.array(values[500:])])
    instants = chunked.cast(pa.timestamp("us"))
    assert iso_instants(instants, zone).equals(reference(instants, zone))


def test_days_are_iso_and_rows_are_built_once() -> None:
    table = pa.table(
        {
            "day": pa.array([datetime(2026, 1, 12).date()], pa.date32()),
            "at": utc("2026-01-12 07:00:00"),
            "n": [1],
        }
    )
    report = Report("x", {}, {}, arrow_rows(table, "Europe/Moscow"))
    assert report.row_count == 1
    assert report.rows == [{"day": "2026-01-12", "at": "2026-01-12T10:00:00+03:00", "n": 1}]
    assert report.rows is report.rows
    assert report.as_json()["rows"] == report.rows


def test_rows_of_some_statuses_come_from_the_table_alone() -> None:
    """The callbacks page lists a period's open contacts: a year has 986k contacts, of which
    only the open ones should become Python rows."""
    statuses = ["open", "called_back", "attempted", "recalled_by_customer", "open", None]
    table = pa.table({"contact_id": [f"c{i}" for i in range(6)], "status": statuses})
    kept = Report("missed", {}, {}, table)
    listed = Report("missed", {}, {}, table.to_pylist())
    wanted = [{"contact_id": "c0", "status": "open"}, {"contact_id": "c2", "status": "attempted"},
              {"contact_id": "c4", "status": "open"}]  # fmt: skip
    assert kept.rows_where("status", ("open", "attempted")) == wanted
    assert listed.rows_where("status", ("open", "attempted")) == wanted
    assert kept._rows is None  # the others were never built
    assert kept.rows_where("status", ("open", "attempted"), limit=2) == wanted[:2]
    assert listed.rows_where("status", ("open", "attempted"), limit=2) == wanted[:2]


ODD = pa.table(
    {
        "s": ['a"b', "c\\d", "e\nf", "tab\tx", "\x01", "", None, "x,y", "привет", "\r"],
        "f": [1.0, -0.0, 0.0, 0.1, float("nan"), float("inf"), None, 1e16, 123456789012345.0, -5.5],
        "i": [1, None, -3, 0, 2**62, 5, 6, 7, 8, 9],
        "b": [True, False, None] * 3 + [True],
        "l": pa.array(
            [["a", "b"], [], None, ["x,y"], ['q"'], ["\t"], ["\n"], ["1"], [], ["z"]],
            pa.list_(pa.string()),
        ),
        "li": pa.array([[1], [], None, [2, 3], [4], [5], [6], [7], [], [8]], pa.list_(pa.int64())),
        "st": [{"k": 1}, None] * 5,
    }
)


def python_csv(rows: list[dict[str, object]], fields: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(fields)
    writer.writerows([[rowtext.list_text(r.get(f)) for f in fields] for r in rows])
    return buf.getvalue().encode()


@pytest.mark.parametrize("size", [0, 1, 10, rowtext.BATCH + 3])
def test_odd_values_print_as_python_prints_them(size: int) -> None:
    """Quotes, backslashes, control characters, commas, -0.0, NaN, whole and huge floats,
    empty and null lists, structs; more rows than a slice."""
    table = pa.concat_tables([ODD] * (size // 10 + 1)).slice(0, size)
    rows = table.to_pylist()
    report = Report("odd", {"tz": "UTC"}, {"rows": "rows: []"}, table, {}, {"totals": {"a": 1}})
    listed = Report("odd", {"tz": "UTC"}, {"rows": "rows: []"}, rows, {}, {"totals": {"a": 1}})
    text = b"".join(rowtext.json_chunks(report, rowtext.CLI_JSON))
    assert text == json.dumps(listed.as_json(), ensure_ascii=False, indent=1).encode()
    compact = report if size == 0 else Report("odd", {}, {}, table.drop_columns(["f"]))
    assert (
        b"".join(rowtext.json_chunks(compact, rowtext.API_JSON))
        == json.dumps(
            Report("odd", {}, {}, compact.table.to_pylist() if compact.table else []).as_json()
            if size
            else listed.as_json(),
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode()
    )
    fields = table.column_names
    assert b"".join(rowtext.csv_chunks(table, fields)) == python_csv(rows, fields)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rows")
    log = folder / "Master.csv"
    lines = sc.EVERY_EDGE.strip().splitlines()
    log.write_text("\n".join(line.strip() for line in lines if line.strip()) + "\n")
    path = folder / "callscope.duckdb"
    result = CliRunner().invoke(
        app, ["import", str(log), "--db", str(path), "--tz", "Europe/Moscow"]
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_cli_writes_what_the_python_rows_would(db: Path, fmt: str, tmp_path: Path) -> None:
    """`callscope report missed` streams from Arrow; the bytes are those the writers made of
    Python rows (json.dumps of as_json(); csv.writer of every column)."""
    out = tmp_path / f"missed.{fmt}"
    args = ["report", "missed", "--db", str(db), "--tz", "Europe/Moscow", "--format", fmt]
    result = CliRunner().invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    settings = load_cli_settings(db, "Europe/Moscow")
    with open_store(settings.db, read_only=True) as store:
        report = missed(store, MetricFilter(), settings)
    assert report.table is not None and report.row_count > 5
    if fmt == "json":
        doc = json.dumps(report.as_json(), ensure_ascii=False, indent=1, default=str) + "\n"
        assert out.read_bytes() == doc.encode()
    else:
        assert out.read_bytes() == python_csv(report.rows, report.table.column_names)
    printed = CliRunner().invoke(app, args)
    assert printed.stdout_bytes == out.read_bytes()


PLAIN_LISTS = pa.table(
    {
        "n": [1, 2, 3, 4, 5],
        "l": pa.array([["101", "102"], [], None, ["a b"], ["7"]], pa.list_(pa.string())),
    }
)


def test_every_export_prints_a_list_as_people_write_one() -> None:
    """`101, 102` in a CSV cell, an Excel cell, a PDF or page cell, whoever writes it: the CLI
    from Arrow or from rows, the API, the dashboard. One rule: `rowtext.list_text`."""
    from callscope.web.export import to_csv
    from callscope.web.i18n import Translator

    wanted = b'n,l\r\n1,"101, 102"\r\n2,\r\n3,\r\n4,a b\r\n5,7\r\n'
    assert b"".join(rowtext.csv_chunks(PLAIN_LISTS, ["n", "l"])) == wanted
    assert to_csv(["n", "l"], PLAIN_LISTS.to_pylist()) == wanted
    assert python_csv(PLAIN_LISTS.to_pylist(), ["n", "l"]) == wanted
    assert Translator("en", "UTC").cell("agents_rung", ["101", "102"]) == "101, 102"
    assert rowtext.list_text([101, None, [1, 2]]) == "101, , 1, 2"
    assert rowtext.list_text({"k": "в"}) == '{"k": "в"}'  # a mapping as JSON


@pytest.mark.parametrize("table", [ODD, PLAIN_LISTS], ids=["odd", "plain-lists"])
def test_lists_from_arrow_print_as_from_python_rows(table: pa.Table) -> None:
    """The streamed CSV (Arrow) and csv.writer over Python rows print lists alike."""
    fields = table.column_names
    assert b"".join(rowtext.csv_chunks(table, fields)) == python_csv(table.to_pylist(), fields)


def test_cli_and_api_csv_of_a_report_are_the_same_bytes(db: Path, tmp_path: Path) -> None:
    """`callscope report missed --format csv` and the API's / dashboard's CSV of the same rows
    (agents_rung is a list)."""
    from callscope.web.api import report_columns
    from callscope.web.export import to_csv

    out = tmp_path / "missed.csv"
    args = ["report", "missed", "--db", str(db), "--tz", "Europe/Moscow", "--format", "csv"]
    assert CliRunner().invoke(app, [*args, "--output", str(out)]).exit_code == 0
    settings = load_cli_settings(db, "Europe/Moscow")
    with open_store(settings.db, read_only=True) as store:
        report = missed(store, MetricFilter(), settings)
    assert any(len(r["agents_rung"] or []) > 1 for r in report.rows)
    assert out.read_bytes() == to_csv(report_columns(report), report.rows)
    assert b',"101, 102",' in out.read_bytes()  # the contact that rang 101 and 102
