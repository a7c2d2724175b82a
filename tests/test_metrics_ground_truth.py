"""The simulator's ground truth reproduced by every report.

A week of the dental clinic and two days of the support desk are simulated, written as CEL (the
format that carries everything), imported, and each report is compared with figures computed
here straight from `ground-truth.jsonl`: the truth's own calls, legs and missed contacts, with
the definitions of design.md 4 applied in plain Python, independently of the metric layer.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callscope.importer import import_files
from callscope.metrics import REPORTS, MetricFilter
from callscope.metrics.missed import BUCKETS
from callscope.metrics.service import PATIENCE_BOUNDS
from callscope.settings import Settings
from callscope.simulate import load_profile, simulate
from callscope.simulate.compare import import_settings
from callscope.simulate.writers import write_history
from callscope.store import Store, open_store

CASES = {"dental-clinic": 7, "support-queue": 2}


class Truth:
    def __init__(self, path: Path, zone: str, profile: str) -> None:
        self.profile = profile
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        self.calls = [r for r in rows if r["kind"] == "call"]
        self.contacts = [r for r in rows if r["kind"] == "missed_contact"]
        self.inbound = [c for c in self.calls if c["direction"] == "inbound"]
        self.zone = ZoneInfo(zone)

    def local(self, iso: str) -> datetime:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(self.zone)

    def outcome(self, call: dict[str, Any]) -> str:
        if call["outcome"] == "answered":
            return "answered"
        d = call["disposition"]
        return "abandoned_short" if d == "abandoned" and call["wait_s"] < 6 else d


@pytest.fixture(scope="module", params=list(CASES))
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Settings, Truth]]:
    name = request.param
    trace = simulate(load_profile(name), date(2026, 3, 2), CASES[name], seed=11)
    out = tmp_path_factory.mktemp(name)
    write_history(trace, load_profile(name), out, ["asterisk-cel"])
    settings = import_settings(trace)
    with open_store(None) as store:
        summary = import_files(store, [out / "cel.csv"], settings=settings)
        assert summary.rejects == 0
        yield store, settings, Truth(out / "ground-truth.jsonl", settings.timezone, name)


def report(world: tuple[Store, Settings, Truth], name: str, **options: Any) -> dict[str, Any]:
    store, settings, _ = world
    return REPORTS[name](store, MetricFilter(), settings, **options).as_json()


def test_missed_contacts_are_the_truths(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    expected = {
        c["first_call_id"]: (c["external_number"], c["attempts"], c["status"],
                             c["resolved_by_agent"], c["time_to_resolution_s"])
        for c in truth.contacts
    }  # fmt: skip
    got = {
        r["contact_id"]: (r["external_number"], r["attempts"], r["status"],
                          r["resolved_by_agent"], r["time_to_resolution_s"])
        for r in report(world, "missed")["rows"]
    }  # fmt: skip
    assert len(expected) > 20
    assert got == expected


def test_callbacks_shares_and_distribution(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    doc = report(world, "callbacks")
    statuses = Counter(c["status"] for c in truth.contacts)
    assert {r["status"]: r["contacts"] for r in doc["rows"]} == {
        s: statuses.get(s, 0) for s in ("called_back", "recalled_by_customer", "attempted", "open")
    }
    buckets: Counter[str] = Counter()
    for c in truth.contacts:
        if c["time_to_resolution_s"] is not None:
            label = next(
                (
                    lbl
                    for lbl, bound in BUCKETS
                    if bound is None or c["time_to_resolution_s"] < bound
                )
            )
            buckets[label] += 1
    assert {b["bucket"]: b["resolved"] for b in doc["time_to_resolution"]} == {
        lbl: buckets.get(lbl, 0) for lbl, _ in BUCKETS
    }


def test_service_by_day_and_outcomes(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    doc = report(world, "service", by="day")
    per_day: dict[str, Counter[str]] = {}
    for c in truth.inbound:
        day = truth.local(c["started_at"]).date().isoformat()
        per_day.setdefault(day, Counter())[truth.outcome(c)] += 1
    got = {
        r["day"]: {k[8:]: v for k, v in r.items() if k.startswith("outcome_") and v}
        for r in doc["rows"]
    }
    assert got == {d: dict(c) for d, c in per_day.items()}
    answered = [c for c in truth.inbound if c["outcome"] == "answered"]
    totals = doc["totals"]
    assert (totals["offered"], totals["answered"]) == (len(truth.inbound), len(answered))
    # CEL times carry microseconds the truth rounds away
    assert totals["asa_s"] == pytest.approx(mean(c["wait_s"] for c in answered), abs=0.01)
    within = sum(1 for c in answered if c["wait_s"] <= 20)
    abandons = [c for c in truth.inbound if truth.outcome(c) in ("abandoned", "abandoned_short")]
    short = sum(1 for c in abandons if truth.outcome(c) == "abandoned_short")
    assert totals["service_level"] == pytest.approx(
        within / (len(answered) + len(abandons) - short)
    )


def test_agents_scorecard(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    expected: dict[str, Counter[str]] = {}
    for c in truth.inbound:
        for leg in c["legs"]:
            if leg["agent"] is None:
                continue
            e = expected.setdefault(leg["agent"], Counter())
            e["offered"] += 1
            e["answered"] += leg["result"] == "answered" and leg["talk_s"] >= 6
            e["rang_no_answer"] += leg["result"] in ("no_answer", "caller_hung_up")
        for agent in {leg["agent"] for leg in c["legs"] if leg["agent"]}:
            expected[agent]["lost_calls"] += c["outcome"] == "missed"
    for c in truth.calls:
        if c["direction"] == "outbound":
            expected.setdefault(c["answered_by"], Counter())["outbound_calls"] += 1
    rows = [r for r in report(world, "agents")["rows"] if r["kind"] == "agent"]
    keys = ("offered", "answered", "rang_no_answer", "lost_calls", "outbound_calls")
    got = {r["agent"]: {k: r[k] for k in keys if r[k]} for r in rows}
    assert got == {a: {k: e[k] for k in keys if e[k]} for a, e in expected.items()}


def test_patience_funnel(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    waits = [c["wait_s"] for c in truth.inbound
             if truth.outcome(c) in ("abandoned", "abandoned_short")]  # fmt: skip
    funnel = {r["up_to_s"]: r["cumulative_calls"] for r in report(world, "patience")["rows"]}
    assert funnel.pop(None) == len(waits)
    # A wait of exactly a bound (5 s) may sit a few microseconds either side of it in CEL.
    outside = {
        b: n
        for b, n in funnel.items()
        if not sum(w < b for w in waits) <= n <= sum(w <= b for w in waits)
    }
    assert outside == {}
    assert [funnel[b] for b in PATIENCE_BOUNDS] == sorted(funnel.values())


def test_endpoints_and_load(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    missed = [c for c in truth.inbound if c["outcome"] == "missed"]
    ends = Counter(
        "after_hours" if c["disposition"] == "after_hours" else c["end_stage"] for c in missed
    )
    got = {r["endpoint"]: r["calls"] for r in report(world, "endpoints")["rows"]}
    assert got == dict(ends)
    heat = Counter(
        (truth.local(c["started_at"]).isoweekday(), truth.local(c["started_at"]).hour)
        for c in truth.inbound
    )
    load = report(world, "load")
    assert {(r["weekday"], r["hour"]): r["offered"] for r in load["rows"]} == dict(heat)


def test_summary_agrees_with_the_truth(world: tuple[Store, Settings, Truth]) -> None:
    truth = world[2]
    [row] = report(world, "summary")["rows"]
    directions = Counter(c["direction"] for c in truth.calls)
    assert (row["calls"], row["inbound"], row["outbound"]) == (
        len(truth.calls), directions["inbound"], directions["outbound"],
    )  # fmt: skip
    assert row["missed"] == sum(1 for c in truth.inbound if c["outcome"] == "missed")
    assert row["open_contacts"] == sum(1 for c in truth.contacts if c["status"] == "open")
    assert row["missed_contacts"] == len(truth.contacts)
    assert UTC  # truth times are UTC (`Z`); reports read them in the tenant's zone
