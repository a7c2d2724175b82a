"""Asterisk CDR: every column layout, the calls it makes, and what it rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.settings import Settings
from callscope.sources.asterisk_cdr import detect_layout
from callscope.store import Store
from callscope.testing import import_text

RING_ALL = '''
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/101-00000003","Queue","sales","2026-11-22 20:55:23","2026-11-22 20:55:23","2026-11-22 20:55:31",8,8,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",5
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/102-00000004","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:31","2026-11-22 20:56:06",41,35,"ANSWERED","DOCUMENTATION","1795370123.5","","","1795370123.4",10
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/103-00000005","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:25","2026-11-22 20:55:31",6,6,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",13
'''


def calls(store: Store) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = (
        store.ibis.table("calls").order_by("started_at").to_pyarrow().to_pylist()
    )
    return rows


def legs(store: Store) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = (
        store.ibis.table("legs").order_by(["call_id", "leg_no"]).to_pyarrow().to_pylist()
    )
    return rows


def test_ring_all_answered_by_second_agent_is_one_call_with_three_legs(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    summary = import_text(store, tmp_path, RING_ALL, settings=settings)
    assert summary.records_new == 3 and summary.rejects == 0
    (call,) = calls(store)
    assert call["call_id"] == "1795370123.4"
    assert call["direction"] == "inbound"
    assert call["external_number"] == "+79262345678"
    assert call["outcome"] == "answered"
    assert call["answered_by"] == "102"
    assert call["talk_s"] == 35
    assert [(leg["agent"], leg["result"]) for leg in legs(store)] == [
        ("101", "cancelled_answered_elsewhere"),
        ("102", "answered"),
        ("103", "cancelled_answered_elsewhere"),
    ]


def test_talk_of_five_seconds_is_a_missed_call_and_six_is_answered(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = """
    "","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial","PJSIP/101,20","2026-01-12 10:00:00","2026-01-12 10:00:04","2026-01-12 10:00:09",9,5,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1
    "","+79161110002","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-04","Dial","PJSIP/101,20","2026-01-12 11:00:00","2026-01-12 11:00:04","2026-01-12 11:00:10",10,6,"ANSWERED","DOCUMENTATION","2.1","","","2.1",2
    """
    import_text(store, tmp_path, text, settings=settings)
    assert [(c["external_number"], c["outcome"], c["answered_by"]) for c in calls(store)] == [
        ("+79161110001", "missed", "101"),
        ("+79161110002", "answered", "101"),
    ]


def test_outbound_call_dialled_with_trunk_prefix_is_normalised(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = '''
    "","103","89990001122","from-internal","""Viktor"" <103>","PJSIP/103-00000017","PJSIP/trunk-00000018","Dial","PJSIP/89990001122@trunk,30","2026-11-22 20:57:01","2026-11-22 20:57:06","2026-11-22 20:57:21",20,15,"ANSWERED","DOCUMENTATION","1795370221.47","","","1795370221.46",55
    '''
    import_text(store, tmp_path, text, settings=settings)
    (call,) = calls(store)
    assert (call["direction"], call["external_number"], call["answered_by"]) == (
        "outbound",
        "+79990001122",
        "103",
    )
    assert (call["outcome"], call["talk_s"]) == ("answered", 15)


def test_internal_call_is_never_a_customer(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = """
    "","101","102","from-internal","","PJSIP/101-01","PJSIP/102-02","Dial","PJSIP/102,20","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","5.1","","","5.1",1
    """
    import_text(store, tmp_path, text, settings=settings)
    (call,) = calls(store)
    assert (call["direction"], call["external_number"], call["outcome"]) == (
        "internal",
        None,
        "no_answer",
    )


@pytest.mark.parametrize(
    ("name", "layout", "rows", "rejects"),
    [
        ("cdr_csv_Master_ru_2024.csv", "cdr_csv 21 columns", 84, 0),
        ("cdr_csv_Master_lab_2023.csv", "cdr_csv clid-first", 14, 0),
        ("voipreports1_cdr_table.csv", "cdr table export", 1000, 0),
        # 5 rows dated 0000-00-00, 32 test rows dated 1000-01-01 and one duplicate of those
        ("freepbx2024_cdr.csv", "cdr table export", 536, 38),
        ("freepbx2013_cdr.csv", "cdr table export", 2633, 0),
    ],
)
def test_real_cdr_samples_import(
    store: Store, shared: Path, settings: Settings, name: str, layout: str, rows: int, rejects: int
) -> None:
    from callscope.importer import import_files

    summary = import_files(
        store, [shared / "pbx-samples" / "asterisk-cdr" / name], fmt="auto", settings=settings
    )
    (result,) = summary.files
    assert result.status == "imported", result.error
    assert result.format == "asterisk-cdr"
    assert f"layout: {layout}" in result.notes
    assert (result.records_new, result.rejects) == (rows, rejects)


def test_layouts_are_told_apart_by_content() -> None:
    classic = '"","100","200","ctx","","SIP/100-1","SIP/200-2","Dial","x","2020-01-01 00:00:00","","2020-01-01 00:00:05",5,0,"NO ANSWER","DOCUMENTATION"\n'
    assert detect_layout(classic, "f").name == "cdr_csv 16 columns"
    with_uid = classic.replace('"DOCUMENTATION"', '"DOCUMENTATION","1577836800.1"')
    layout = detect_layout(with_uid, "f")
    assert layout.columns[16] == "uniqueid"
    with_userfield = classic.replace('"DOCUMENTATION"', '"DOCUMENTATION","sales"')
    assert detect_layout(with_userfield, "f").columns[16] == "userfield"


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        # One offset over the whole file: converted by subtraction.
        ("Europe/Moscow", ["2026-01-12 10:00:00", "2026-07-12 10:00:00"],
         ["2026-01-12 07:00:00", "2026-07-12 07:00:00"]),
        # A file across the spring-forward night: every time goes through the zone's rules.
        ("Europe/Berlin", ["2026-03-28 12:00:00", "2026-03-30 12:00:00"],
         ["2026-03-28 11:00:00", "2026-03-30 10:00:00"]),
        ("Europe/Berlin", ["2026-07-01 12:00:00", "2026-07-02 23:30:00"],
         ["2026-07-01 10:00:00", "2026-07-02 21:30:00"]),
    ],
)  # fmt: skip
def test_local_times_become_utc_across_summer_time(
    store: Store, tmp_path: Path, zone: str, local: list[str], utc: list[str]
) -> None:
    lines = [
        f'"","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial",'
        f'"PJSIP/101,20","{t}","{t}","{t}",0,0,"ANSWERED","DOCUMENTATION","{i}.1","","","{i}.1",1'
        for i, t in enumerate(local)
    ]
    import_text(store, tmp_path, "\n".join(lines), settings=Settings(timezone=zone))
    got = store.con.execute(
        "SELECT strftime(start, '%Y-%m-%d %H:%M:%S') FROM raw_asterisk_cdr_v1 ORDER BY row_no"
    )
    assert [r[0] for r in got.fetchall()] == utc
