"""Property tests: whatever text a PBX puts in CDR fields, a written row reads back as it was,
every row belongs to exactly one call, and the order of rows does not change the calls."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callscope.assemble.numbers import to_e164
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.store import open_store

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    max_size=20,
)
BASE = datetime(2026, 3, 1, 9, 0, 0)


@st.composite
def cdr_rows(draw: st.DrawFn) -> list[list[str]]:
    rows: list[list[str]] = []
    for i in range(draw(st.integers(1, 6))):
        start = BASE + timedelta(seconds=draw(st.integers(0, 86_000)))
        duration = draw(st.integers(0, 600))
        billsec = draw(st.integers(0, duration))
        answered = billsec > 0
        end = start + timedelta(seconds=duration)
        answer = end - timedelta(seconds=billsec) if answered else None
        linked = f"{1700000000 + draw(st.integers(0, 3))}.{draw(st.integers(0, 2))}"
        rows.append(
            [
                draw(text),
                draw(st.from_regex(r"\+?[0-9]{3,12}", fullmatch=True)),
                draw(st.from_regex(r"[0-9]{2,11}", fullmatch=True)),
                draw(text),
                draw(text),
                f"PJSIP/trunk-{i:08x}",
                draw(st.sampled_from(["", f"PJSIP/10{i}-{i:08x}"])),
                draw(st.sampled_from(["Dial", "Queue", "Hangup"])),
                draw(text),
                start.strftime("%Y-%m-%d %H:%M:%S"),
                answer.strftime("%Y-%m-%d %H:%M:%S") if answer else "",
                end.strftime("%Y-%m-%d %H:%M:%S"),
                str(duration),
                str(billsec),
                "ANSWERED" if answered else draw(st.sampled_from(["NO ANSWER", "BUSY", "FAILED"])),
                "DOCUMENTATION",
                f"{linked}{i}",
                draw(text),
                "",
                linked,
                str(i),
            ]
        )
    return rows


def write(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=cdr_rows(), order=st.randoms(use_true_random=False))
def test_rows_read_back_and_shuffling_keeps_the_calls(
    tmp_path: Path, rows: list[list[str]], order: object
) -> None:
    cfg = Settings(timezone="UTC")
    unique = list({tuple(r): r for r in rows}.values())
    shuffled = unique[:]
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    results = []
    for n, variant in enumerate((unique, shuffled)):
        path = tmp_path / f"Master{n}.csv"
        path.write_bytes(write(variant))
        with open_store(None) as store:
            summary = import_files(store, [path], fmt="asterisk-cdr", settings=cfg)
            assert summary.rejects == 0, store.con.execute("SELECT * FROM rejects").fetchall()
            raw = store.con.execute(
                "SELECT clid, dcontext, lastdata, userfield FROM raw_asterisk_cdr_v1 ORDER BY ALL"
            ).fetchall()
            expected = [(r[4] or None, r[3] or None, r[8] or None, r[17] or None) for r in variant]
            assert sorted(raw, key=str) == sorted(expected, key=str)
            keys = {r[19] for r in variant}
            calls = store.con.execute("SELECT call_id FROM calls ORDER BY 1").fetchall()
            assert sorted(c for (c,) in calls) == sorted(keys)
            results.append(
                store.con.execute("SELECT * EXCLUDE (leg_no) FROM legs ORDER BY ALL").fetchall()
            )
    assert results[0] == results[1]


@given(st.from_regex(r"9[0-9]{9}", fullmatch=True))
def test_every_written_form_of_a_russian_mobile_is_one_customer(local: str) -> None:
    forms = [f"+7{local}", f"8{local}", f"7{local}", f"007{local}", f"+7 ({local[:3]}) {local[3:]}"]
    assert {to_e164(f, "RU", 5) for f in forms} == {f"+7{local}"}


@given(st.from_regex(r"[0-9]{1,5}", fullmatch=True))
def test_extensions_are_never_customers(ext: str) -> None:
    assert to_e164(ext, "RU", 5) is None
