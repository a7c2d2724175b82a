"""The benchmark's synthetic Master.csv must be a file Asterisk could have written: the same
21 columns and the same quoting as the real cdr_csv sample, and the same bytes for the same seed
(so benchmark figures from two machines describe the same input)."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from callscope.store import open_store

ROOT = Path(__file__).resolve().parents[1]
REAL_MASTER = ROOT.parent / "shared" / "data" / "pbx-samples" / "asterisk-real" / "Master.csv"
ROWS = 2_000


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cdr_generator", ROOT / "bench" / "cdr_generator.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def written(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "Master.csv"
    gen.generate(path, ROWS, seed=7)
    return path


def _shape(line: str) -> str:
    """Which fields of a line are quoted ('q'), bare ('b') or bare and empty ('e')."""
    fields = re.findall(r'("(?:[^"]|"")*"|[^,]*)(?:,|$)', line.rstrip("\n"))[:21]
    return "".join("q" if f.startswith('"') else ("b" if f else "e") for f in fields)


def test_writes_exactly_the_rows_asked_for(written: Path) -> None:
    with written.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == ROWS
    assert {len(r) for r in rows} == {21}


def test_same_seed_same_bytes_other_seed_other_bytes(
    gen: ModuleType, written: Path, tmp_path: Path
) -> None:
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    gen.generate(again, ROWS, seed=7)
    gen.generate(other, ROWS, seed=8)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (written, again, other)]
    assert digest[0] == digest[1]
    assert digest[0] != digest[2]


def test_quoting_matches_the_real_asterisk_master_csv(written: Path) -> None:
    # Asterisk quotes every text field ("" when empty), leaves duration, billsec and sequence
    # bare, and writes an unanswered leg's answer time as a bare empty field.
    real = {_shape(line) for line in REAL_MASTER.read_text().splitlines()}
    ours = {_shape(line) for line in written.read_text().splitlines()}
    shapes = {"qqqqqqqqqqqqbbqqqqqqb", "qqqqqqqqqqeqbbqqqqqqb"}  # q quoted, b bare, e empty
    assert real == shapes
    assert ours == shapes


def test_rows_read_like_asterisk_cdr(gen: ModuleType, written: Path) -> None:
    with written.open(newline="") as fh:
        rows = [dict(zip(gen.COLUMNS, r, strict=True)) for r in csv.reader(fh)]
    ts = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    assert all(ts.match(r["start"]) and ts.match(r["end"]) for r in rows)
    assert all(int(r["billsec"]) <= int(r["duration"]) for r in rows)
    assert {r["disposition"] for r in rows} <= {"ANSWERED", "NO ANSWER", "BUSY", "FAILED"}
    # ring-all queue calls: several rows under one linkedid, at most one member answered
    queue_calls: dict[str, list[str]] = {}
    for r in rows:
        if r["lastapp"] == "Queue":
            queue_calls.setdefault(r["linkedid"], []).append(r["disposition"])
    assert any(len(d) > 1 for d in queue_calls.values())
    assert all(d.count("ANSWERED") <= 1 for d in queue_calls.values())
    # agents on PJSIP/1NN, outbound through the trunk, customers as Russian mobiles
    assert any(re.match(r"^PJSIP/1\d\d-[0-9a-f]{8}$", r["dstchannel"]) for r in rows)
    assert any(
        r["dcontext"] == "outbound" and r["dstchannel"].startswith("PJSIP/trunk-") for r in rows
    )
    customers = {r["src"] for r in rows if r["channel"].startswith("PJSIP/trunk-")}
    assert all(re.match(r"^(\+79|89|79)\d{9}$|^anonymous$", c) for c in customers)


def test_the_report_benchmarks_store_gives_each_leg_its_calls_facts(tmp_path: Path) -> None:
    # bench/reports.py writes calls and legs straight in SQL, as the assembler would: each leg
    # carries its call's direction, start, answer and longest talk (migration 6).
    spec = importlib.util.spec_from_file_location("reports_bench", ROOT / "bench" / "reports.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    db = tmp_path / "reports.duckdb"
    bench.generate(db, 3_000)
    facts = ("direction", "started_at", "first_answered_at", "max_talk_s")
    differs = " OR ".join(f"l.call_{f} IS DISTINCT FROM c.{f}" for f in facts)
    with open_store(db, read_only=True) as store:
        row = store.con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE {differs}) FROM legs l
                LEFT JOIN calls c ON c.tenant = l.tenant AND c.call_id = l.call_id"""
        ).fetchone()
    assert row is not None
    assert row[0] > 3_000 * 0.5
    assert row[1] == 0
