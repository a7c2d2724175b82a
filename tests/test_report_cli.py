"""`callscope report`: every report from the command line, as a table for people (localised,
statuses in colour) and as JSON / CSV / XLSX for machines, from an imported Master.csv."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.metrics import REPORTS
from test_metrics_scenarios import CALLBACK_NOT_CONNECTED, THREE_MISSED_THEN_CALLBACK


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    log = folder / "Master.csv"
    lines = (THREE_MISSED_THEN_CALLBACK + CALLBACK_NOT_CONNECTED).strip().splitlines()
    log.write_text("\n".join(line.strip() for line in lines if line.strip()) + "\n")
    path = folder / "callscope.duckdb"
    result = invoke("import", str(log), "--db", str(path), "--tz", "Europe/Moscow")
    assert "calls 6" in result.stdout
    return path


def invoke(*args: str) -> object:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_every_report_prints_a_table(db: Path) -> None:
    for name in REPORTS:
        result = CliRunner().invoke(app, ["report", name, "--db", str(db), "--tz", "Europe/Moscow"])
        assert result.exit_code == 0, (name, result.output)
        assert "Settings used" in result.stdout


def test_json_is_the_documented_shape(db: Path) -> None:
    result = CliRunner().invoke(app, ["report", "missed", "--db", str(db), "--format", "json",
                                      "--tz", "Europe/Moscow"])  # fmt: skip
    doc = json.loads(result.stdout)
    assert set(doc) == {"report", "period", "settings", "formulas", "rows", "totals"}
    assert doc["period"] == {"from": None, "to": None, "tz": "Europe/Moscow"}
    assert [(r["external_number"], r["attempts"], r["status"]) for r in doc["rows"]] == [
        ("+79161110003", 3, "called_back"), ("+79161110005", 1, "attempted"),
    ]  # fmt: skip
    assert doc["settings"]["callback_sla_min"] == 10


def test_filters_by_period_agent_and_grouping(db: Path) -> None:
    base = ["report", "service", "--db", str(db), "--format", "json", "--tz", "Europe/Moscow"]
    doc = json.loads(CliRunner().invoke(app, [*base, "--by", "agent"]).stdout)
    assert {r["agent"]: r["offered"] for r in doc["rows"]} == {"101": 3, "102": 1}
    one_day = [*base, "--from", "2026-01-13", "--to", "2026-01-13"]
    assert json.loads(CliRunner().invoke(app, one_day).stdout)["totals"]["offered"] == 0
    agent = [*base, "--agent", "102"]
    assert json.loads(CliRunner().invoke(app, agent).stdout)["totals"]["offered"] == 1


def test_csv_has_every_column(db: Path) -> None:
    result = CliRunner().invoke(app, ["report", "agents", "--db", str(db), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["agent"] for r in rows if r["kind"] == "agent"} == {"101", "102"}
    assert "called_back_within_sla" in rows[0]


def test_xlsx_writes_rows_blocks_and_settings(db: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    target = tmp_path / "callbacks.xlsx"
    invoke("report", "callbacks", "--db", str(db), "--format", "xlsx", "--output", str(target))
    book = load_workbook(target)
    assert book.sheetnames == ["callbacks", "time_to_resolution", "by_agent", "totals", "settings"]
    assert [c.value for c in book["callbacks"][1]][:2] == ["status", "contacts"]


def test_tables_speak_russian_and_ukrainian(db: Path) -> None:
    ru = CliRunner().invoke(app, ["report", "missed", "--db", str(db), "--lang", "ru"]).stdout
    assert "Пропущенные контакты" in ru and "перезвонили" in ru
    uk = CliRunner().invoke(app, ["report", "agents", "--db", str(db), "--lang", "uk"]).stdout
    assert "Менеджери" in uk and "Надійшло" in uk


def test_mistakes_are_one_line_errors(db: Path) -> None:
    from callscope.cli import main

    for args, message in [
        (["report", "agents", "--by", "hour"], "--by applies to the service report only"),
        (["report", "service", "--from", "yesterday"], "--from: not a date"),
        (["report", "missed", "--format", "xlsx"], "--format xlsx writes a file"),
    ]:
        result = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert result.exit_code != 0
        assert message in str(result.exception) or message in result.output
    assert main  # the entry point turns these into "error: ..." and a non-zero exit


def test_every_column_has_words_in_three_languages(db: Path) -> None:
    from callscope.i18n import CATALOGUES

    assert CATALOGUES["ru"].keys() == CATALOGUES["en"].keys() == CATALOGUES["uk"].keys()
    missing = set()
    for name in REPORTS:
        doc = json.loads(CliRunner().invoke(app, ["report", name, "--db", str(db),
                                                  "--format", "json"]).stdout)  # fmt: skip
        blocks = [doc["rows"], *[b for b in doc.values() if isinstance(b, list)]]
        for rows in blocks:
            for row in rows:
                if isinstance(row, dict):
                    missing |= {k for k in row if f"col.{k}" not in CATALOGUES["en"]}
        assert f"report.{name}" in CATALOGUES["en"]
    assert missing == set()
