"""`callscope simulate` and `callscope demo` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from callscope.cli import app
from callscope.simulate.writers import WRITERS
from callscope.simulate.writers.mapped import mapping_text
from callscope.store import open_store

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def simulate_to(out: Path, seed: str) -> dict[str, bytes]:
    run(
        "simulate",
        "--profile",
        "support-queue",
        "--days",
        "1",
        "--start",
        "2026-03-02",
        "--seed",
        seed,
        "--out",
        str(out),
        "--formats",
        ",".join(WRITERS),
    )
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_same_bytes_in_every_format(tmp_path: Path) -> None:
    first = simulate_to(tmp_path / "a", "9")
    assert set(first) == {
        "Master.csv",
        "queue_log",
        "cel.csv",
        "freeswitch-cdr.json",
        "freeswitch-Master.csv",
        "calls.csv",
        "calls.mapping.toml",
        "ground-truth.jsonl",
        "agent-states.jsonl",
        "callscope.toml",
    }
    assert simulate_to(tmp_path / "b", "9") == first
    # another process with another string-hash seed: nothing may depend on set order
    other = tmp_path / "p"
    subprocess.run(
        [sys.executable, "-c", "from callscope.cli import main; main()", "simulate", "--profile", "support-queue",
         "--days", "1", "--start", "2026-03-02", "--seed", "9", "--out", str(other),
         "--formats", ",".join(WRITERS)],
        check=True, env={**os.environ, "PYTHONHASHSEED": "12345"}, capture_output=True,
    )  # fmt: skip
    assert {p.name: p.read_bytes() for p in sorted(other.iterdir())} == first
    assert simulate_to(tmp_path / "c", "10")["cel.csv"] != first["cel.csv"]


def test_the_written_config_imports_the_logs(tmp_path: Path) -> None:
    simulate_to(tmp_path, "9")
    db = tmp_path / "sim.duckdb"
    out = run(
        "--config",
        str(tmp_path / "callscope.toml"),
        "import",
        "--db",
        str(db),
        str(tmp_path / "cel.csv"),
    )
    assert "rejects 0" in out
    with open_store(db) as store:
        calls = store.con.execute("SELECT count(*) FROM calls").fetchone()
    truth = (tmp_path / "ground-truth.jsonl").read_text().count('"kind": "call"')
    assert calls == (truth,)


def test_unknown_profile_and_format_are_one_line_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--profile", "bakery", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown profile 'bakery'" in str(result.exception) + result.output
    result = CliRunner().invoke(
        app, ["simulate", "--days", "1", "--out", str(tmp_path), "--formats", "xml"]
    )
    assert "unknown format(s) ['xml']" in str(result.exception) + result.output


def test_demo_fills_the_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    out = run("demo", "--db", str(db), "--days", "3")
    assert "demo: dental-clinic, 3 days" in out
    assert "Missed share" in out and "Not called back" in out
    with open_store(db) as store:
        (calls,) = store.con.execute("SELECT count(*) FROM calls").fetchone() or (0,)
    assert calls > 200


def test_the_shipped_mapping_is_the_one_the_writer_uses() -> None:
    shipped = (REPO / "mappings" / "simulated-cloud-pbx.toml").read_text(encoding="utf-8")
    assert mapping_text("Europe/Moscow") == shipped
