"""Simulate -> write -> import -> compare with the ground truth, for every format.

CEL, and CDR + queue_log + CEL, must reproduce the truth exactly. A format that cannot carry
something is compared with `carried(truth, formats)`, which applies that format's documented
limits (docs/simulate.md, "What each format carries"); beyond them, nothing may differ.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callscope.importer import import_files
from callscope.simulate import load_profile, simulate
from callscope.simulate.compare import (
    carried,
    differences,
    import_settings,
    load_truth,
    state_differences,
)
from callscope.simulate.trace import Trace
from callscope.simulate.writers import WRITERS, write_history
from callscope.simulate.writers.freeswitch import fs_uuid
from callscope.store import open_store

PROFILES = ("dental-clinic", "window-sales", "support-queue", "small-office")
FILES = {
    "asterisk-cdr": "Master.csv",
    "asterisk-queue-log": "queue_log",
    "asterisk-cel": "cel.csv",
    "freeswitch-json": "freeswitch-cdr.json",
    "freeswitch-csv": "freeswitch-Master.csv",
    "mapped-csv": "calls.csv",
}


@pytest.fixture(scope="module", params=PROFILES)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Trace, Path]:
    name = request.param
    trace = simulate(load_profile(name), date(2026, 3, 2), 2, seed=11)
    out = tmp_path_factory.mktemp(name)
    write_history(trace, load_profile(name), out, list(WRITERS))
    return trace, out


def reimport(trace: Trace, out: Path, formats: list[str]) -> list[str]:
    truth = carried(load_truth(out / "ground-truth.jsonl"), "+".join(formats))
    return compare(trace, out, formats, truth)


def compare(trace: Trace, out: Path, formats: list[str], truth: list[dict[str, Any]]) -> list[str]:
    with open_store(None) as store:
        extra: dict[str, Any] = {}
        if formats == ["mapped-csv"]:
            extra = {"fmt": "mapped-csv", "mapping": out / "calls.mapping.toml"}
        summary = import_files(
            store, [out / FILES[f] for f in formats], settings=import_settings(trace), **extra
        )
        assert [f.error for f in summary.failed] == []
        assert summary.rejects == 0
        fs = formats[0].startswith("freeswitch")
        ids = {t["call_id"]: fs_uuid(t["call_id"]) for t in truth} if fs else None
        return differences(store, truth, ids=ids)


@pytest.mark.parametrize(
    "formats",
    [
        ["asterisk-cel"],
        ["asterisk-cdr", "asterisk-queue-log", "asterisk-cel"],
        ["asterisk-cel", "asterisk-queue-log", "asterisk-cdr"],
    ],
    ids="+".join,
)
def test_cel_reproduces_the_truth_exactly(history: tuple[Trace, Path], formats: list[str]) -> None:
    trace, out = history
    assert carried(load_truth(out / "ground-truth.jsonl"), "+".join(formats)) == load_truth(
        out / "ground-truth.jsonl"
    )  # nothing is lost with CEL
    assert reimport(trace, out, formats) == []


@pytest.mark.parametrize(
    "formats",
    [["asterisk-cdr", "asterisk-queue-log"], ["asterisk-cdr"], ["freeswitch-json"], ["mapped-csv"]],
    ids="+".join,
)
def test_lossy_formats_differ_only_by_their_documented_limits(
    history: tuple[Trace, Path], formats: list[str]
) -> None:
    trace, out = history
    assert reimport(trace, out, formats) == []


def test_cdr_alone_counts_ivr_and_queue_time_as_talk(tmp_path: Path) -> None:
    trace = simulate(load_profile("support-queue"), date(2026, 3, 2), 1, seed=11)
    write_history(trace, load_profile("support-queue"), tmp_path, ["asterisk-cdr"])
    truth = load_truth(tmp_path / "ground-truth.jsonl")
    seen = carried(truth, "asterisk-cdr")
    longer = [s for t, s in zip(truth, seen, strict=True) if s["talk_s"] > t["talk_s"]]
    assert len(longer) > 100  # every answered call on the IVR line
    assert reimport(trace, tmp_path, ["asterisk-cdr"]) == []


def test_freeswitch_csv_carries_every_bridged_call(history: tuple[Trace, Path]) -> None:
    trace, out = history
    truth = carried(load_truth(out / "ground-truth.jsonl"), "freeswitch-csv")
    found = compare(trace, out, ["freeswitch-csv"], truth)
    bridged = {  # one bridged B leg per A leg: a transferred call's first leg is not in the CSV
        t["call_id"]
        for t in load_truth(out / "ground-truth.jsonl")
        if t["direction"] == "outbound"
        or (t["first_answered_at"] and not any(leg["via"] == "transfer" for leg in t["legs"]))
    }
    assert [d for d in found if d.split(":")[0] in bridged] == []


def csv_unbridged(truth: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a stock cdr_csv row says of an outside call no agent picked up: no last_app, so the
    PBX answering it (IVR, voicemail, closed-hours message, a queue behind a greeting) is the
    `ivr` stage, and a caller left ringing unanswered ends at no known stage."""
    out = []
    for t in truth:
        missed = t["direction"] == "inbound" and not t["first_answered_at"]
        if missed and t["end_stage"] != "invalid_destination":
            pbx_answered = t["ivr_path"] or t["end_stage"] in ("after_hours", "voicemail", "ivr")
            t = {**t, "end_stage": "ivr" if pbx_answered else None}
        out.append(t)
    return out


def test_freeswitch_csv_unbridged_calls(history: tuple[Trace, Path]) -> None:
    trace, out = history
    whole = load_truth(out / "ground-truth.jsonl")
    truth = csv_unbridged(carried(whole, "freeswitch-csv"))
    transferred = {  # the CSV bridges only the first agent: the later talk is not in it
        t["call_id"] for t in whole if any(leg["via"] == "transfer" for leg in t["legs"])
    }
    found = compare(trace, out, ["freeswitch-csv"], truth)
    assert [d for d in found if d.split(":")[0] not in transferred] == []


def test_missed_contacts_follow_the_calls(history: tuple[Trace, Path]) -> None:
    """Every missed contact lists missed inbound calls of its number, and its resolution is
    the first later answered call of that number (design.md 4)."""
    _, out = history
    import json

    rows = [json.loads(line) for line in (out / "ground-truth.jsonl").read_text().splitlines()]
    calls = {r["call_id"]: r for r in rows if r["kind"] == "call"}
    contacts = [r for r in rows if r["kind"] == "missed_contact"]
    assert contacts
    for c in contacts:
        missed = [calls[i] for i in c["missed_call_ids"]]
        assert all(
            m["outcome"] == "missed" and m["external_number"] == c["external_number"]
            for m in missed
        )
        assert c["attempts"] == len(missed)
        if c["status"] in ("called_back", "recalled_by_customer"):
            by = calls[c["resolved_by_call"]]
            assert by["outcome"] == "answered"
            assert by["direction"] == ("outbound" if c["status"] == "called_back" else "inbound")
            later = [
                r
                for r in calls.values()
                if r["external_number"] == c["external_number"]
                and c["first_missed_at"] < r["started_at"] < by["started_at"]
            ]
            assert all(r["outcome"] != "answered" for r in later)


def test_queue_log_carries_agent_presence(tmp_path: Path) -> None:
    """Shifts (ADDMEMBER/REMOVEMEMBER) and pauses with their reason (PAUSE/UNPAUSE) become the
    agent_states the truth's agent-states.jsonl says, for every queue member."""
    profile = load_profile("support-queue")
    trace = simulate(profile, date(2026, 3, 2), 2, seed=11)
    write_history(trace, profile, tmp_path, ["asterisk-queue-log", "asterisk-cel"])
    with open_store(None) as store:
        summary = import_files(
            store, [tmp_path / "queue_log", tmp_path / "cel.csv"], settings=import_settings(trace)
        )
        assert summary.agent_states > 100
        assert state_differences(store, trace) == []


@pytest.mark.parametrize(
    "formats",
    [
        ["asterisk-cdr", "asterisk-queue-log"],
        ["asterisk-cdr"],
        ["freeswitch-json"],
        ["mapped-csv"],
        ["asterisk-cel"],
        ["asterisk-cdr", "asterisk-queue-log", "asterisk-cel"],
    ],
    ids="+".join,
)
def test_disposition_of_unanswered_calls(formats: list[str], tmp_path: Path) -> None:
    profile = load_profile("support-queue")
    trace = simulate(profile, date(2026, 3, 2), 1, seed=11)
    write_history(trace, profile, tmp_path, formats)
    truth = carried(load_truth(tmp_path / "ground-truth.jsonl"), "+".join(formats))
    with open_store(None) as store:
        extra: dict[str, Any] = {}
        if formats == ["mapped-csv"]:
            extra = {"fmt": "mapped-csv", "mapping": tmp_path / "calls.mapping.toml"}
        import_files(
            store, [tmp_path / FILES[f] for f in formats], settings=import_settings(trace), **extra
        )
        ids = (
            {t["call_id"]: fs_uuid(t["call_id"]) for t in truth}
            if formats[0].startswith("freeswitch")
            else None
        )
        assert differences(store, truth, fields=("disposition",), ids=ids) == []
