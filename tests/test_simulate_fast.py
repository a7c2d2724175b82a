"""The fast path is statistically the event engine: against an independent event-engine run of
the same company and period, two-sample Kolmogorov-Smirnov tests do not tell wait and talk
apart, and the answer share per hour of day agrees."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pytest

from callscope.simulate import load_profile, simulate
from callscope.simulate.fast import calibrate, fast_calls
from callscope.simulate.fast_writer import write_fast
from callscope.simulate.truth import call_record

START = date(2026, 3, 2)
DAYS = 14


def ks_2samp(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of the two-sample KS statistic (asymptotic Kolmogorov distribution)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    d = np.max(
        np.abs(
            np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size
        )
    )
    n = a.size * b.size / (a.size + b.size)
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    return float(
        min(1.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101)))
    )


@pytest.fixture(scope="module")
def runs() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    profile = load_profile("support-queue")
    cal = calibrate(profile, START, DAYS, seed=0)
    fast = fast_calls(profile, cal, START, DAYS, seed=3)
    zone = ZoneInfo(profile.timezone)
    engine = [
        call_record(c)
        for c in simulate(profile, START, DAYS, seed=7).calls
        if c.direction == "inbound"
    ]
    event = {
        "start": np.array(
            [
                datetime.strptime(r["started_at"], "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=UTC)
                .timestamp()
                for r in engine
            ]
        ),
        "wait_s": np.array([r["wait_s"] for r in engine], dtype=float),
        "talk_s": np.array([r["talk_s"] for r in engine], dtype=float),
        "answered": np.array([r["outcome"] == "answered" for r in engine], dtype=float),
    }
    for run in (event, fast):
        run["hour"] = np.array([datetime.fromtimestamp(int(t), zone).hour for t in run["start"]])
    return event, fast


def test_volumes_agree(runs: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]) -> None:
    event, fast = runs
    # Poisson arrivals, scaled by the calibration's redials per first attempt
    assert 0.95 < fast["start"].size / event["start"].size < 1.05


@pytest.mark.parametrize("column", ["wait_s", "talk_s"])
def test_wait_and_talk_of_answered_calls_pass_a_ks_test(
    runs: tuple[dict[str, np.ndarray], dict[str, np.ndarray]], column: str
) -> None:
    event, fast = runs
    a = event[column][event["answered"] > 0]
    b = fast[column][fast["answered"] > 0]
    assert ks_2samp(a, b) > 0.01


def test_answer_share_per_hour_agrees(
    runs: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
) -> None:
    event, fast = runs
    for hour in range(24):
        e, f = event["answered"][event["hour"] == hour], fast["answered"][fast["hour"] == hour]
        if min(e.size, f.size) < 200:
            continue
        se = math.sqrt(e.mean() * (1 - e.mean()) / e.size + f.mean() * (1 - f.mean()) / f.size)
        assert abs(e.mean() - f.mean()) < 4 * se + 0.01, hour


def test_fast_writer_writes_cdr_rows_and_truth(tmp_path: Path) -> None:
    profile = load_profile("support-queue")
    cal = calibrate(profile, START, 7, seed=0)
    n = write_fast(profile, cal, START, 10, seed=1, out=tmp_path, chunk_days=3)
    rows = (tmp_path / "Master.csv").read_text().splitlines()
    assert len(rows) == n
    assert rows[0].count(",") == 20  # 21 columns; durations unquoted as cdr_csv writes them
    truth = duckdb.sql(
        f"SELECT count(*), count(DISTINCT call_id) FROM '{tmp_path}/truth.part*.parquet'"
    ).fetchone()
    assert truth == (n, n)
