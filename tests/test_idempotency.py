"""Importing the same records again changes nothing; a grown log adds only what is new."""

from __future__ import annotations

from pathlib import Path

from callscope.importer import import_files
from callscope.settings import Settings
from callscope.store import Store


def snapshot(store: Store) -> tuple[object, ...]:
    return tuple(
        store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in ("calls", "legs", "raw_asterisk_cdr_v1", "rejects", "key_links")
    )


def test_same_file_twice_changes_nothing(
    store: Store, shared: Path, real_settings: Settings
) -> None:
    path = shared / "pbx-samples" / "asterisk-real" / "Master.csv"
    first = import_files(store, [path], settings=real_settings)
    before = snapshot(store)
    second = import_files(store, [path], settings=real_settings)
    assert first.files[0].records_new == 55
    assert second.files[0].status == "unchanged"
    assert snapshot(store) == before


def test_grown_log_adds_only_new_records_and_reassembles_touched_calls(
    store: Store, shared: Path, real_settings: Settings, tmp_path: Path
) -> None:
    lines = (shared / "pbx-samples" / "asterisk-real" / "Master.csv").read_text().splitlines()
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join(lines) + "\n")
    import_files(store, [whole], settings=real_settings)
    expected = snapshot(store)[:2]

    with_store = store.con.execute("DELETE FROM calls; DELETE FROM legs;")
    del with_store
    store.con.execute("DELETE FROM raw_asterisk_cdr_v1; DELETE FROM imports; DELETE FROM key_links")
    part = tmp_path / "Master.csv"
    part.write_text("\n".join(lines[:30]) + "\n")
    import_files(store, [part], settings=real_settings)
    part.write_text("\n".join(lines) + "\n")  # the log grew, as cdr_csv appends
    grown = import_files(store, [part], settings=real_settings)
    assert grown.files[0].records_new == len(lines) - 30
    assert snapshot(store)[:2] == expected
