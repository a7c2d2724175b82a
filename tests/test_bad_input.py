"""Bad input gets a reject naming the line and field, or a clear error; the rest imports."""

from __future__ import annotations

from pathlib import Path

from callscope.importer import import_files
from callscope.settings import Settings
from callscope.store import Store
from callscope.testing import import_text

GOOD = (
    '"","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial","PJSIP/101,20",'
    '"2026-01-12 10:00:00","2026-01-12 10:00:04","2026-01-12 10:00:30",30,26,"ANSWERED",'
    '"DOCUMENTATION","1.{n}","","","1.{n}",{n}'
)


def good(n: int) -> str:
    return GOOD.replace("{n}", str(n)).replace("10:00", f"1{n % 10}:00")


def rejects(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT line_no, field, reason FROM rejects ORDER BY line_no"
    ).fetchall()


def test_cp1251_caller_name_is_read_not_rejected(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    line = good(1).replace('""', '"\u0410\u043d\u043d\u0430 <101>"', 1)
    data = (good(2) + "\n" + line + "\n").encode("cp1251")
    summary = import_text(store, tmp_path, data, settings=settings)
    (result,) = summary.files
    assert (result.records_new, result.rejects, result.encoding) == (2, 0, "cp1251")


def test_stray_bytes_in_a_utf8_file_do_not_lose_the_line(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    name = "\u0418\u0432\u0430\u043d".encode()  # valid UTF-8 Cyrillic elsewhere in the file
    data = good(1).encode().replace(b'""', b'"' + name + b'"', 1) + b"\n"
    data += good(2).encode().replace(b'""', b'"8107\xa5\xa5b"', 1) + b"\n"
    summary = import_text(store, tmp_path, data, settings=settings)
    (result,) = summary.files
    assert (result.records_new, result.rejects, result.encoding) == (2, 0, "utf-8+cp1251")


def test_truncated_last_line_is_rejected_and_the_rest_imports(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = good(1) + "\n" + good(2) + "\n" + good(3)[:60]
    summary = import_text(store, tmp_path, text.encode(), settings=settings)
    assert summary.records_new == 2
    ((line, _field, reason),) = rejects(store)
    assert line == 3
    assert "unterminated quote" in str(reason)


def test_wrong_column_count_names_the_line(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = "\n".join([good(1), good(2) + ',"extra"', good(3)]) + "\n"
    summary = import_text(store, tmp_path, text.encode(), settings=settings)
    assert summary.records_new == 2
    ((line, _field, reason),) = rejects(store)
    assert (line, "too many fields" in str(reason)) == (2, True)


def test_time_that_is_not_a_time_and_times_going_backwards(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    bad_time = good(2).replace('"2026-01-12 12:00:00"', '"yesterday"', 1)
    backwards = good(3).replace("30,26", "10,26")
    text = "\n".join([good(1), bad_time, backwards, good(4)]) + "\n"
    summary = import_text(store, tmp_path, text.encode(), settings=settings)
    assert summary.records_new == 2
    assert [(r[0], r[1]) for r in rejects(store)] == [(2, "start"), (3, "billsec")]
    assert "'yesterday'" in str(rejects(store)[0][2])


def test_duplicated_line_is_kept_once_and_reported(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = "\n".join([good(1), good(2), good(1)]) + "\n"
    summary = import_text(store, tmp_path, text.encode(), settings=settings)
    assert summary.records_new == 2
    assert rejects(store) == [(3, None, "duplicate of line 1")]


def test_empty_file_is_a_clear_error(store: Store, tmp_path: Path, settings: Settings) -> None:
    summary = import_text(store, tmp_path, b"", settings=settings, fmt="asterisk-cdr")
    (result,) = summary.files
    assert result.status == "failed"
    assert result.error is not None and "empty file" in result.error


def test_queue_log_given_as_cdr_is_named_for_what_it_is(
    store: Store, tmp_path: Path, settings: Settings, shared: Path
) -> None:
    path = shared / "pbx-samples" / "asterisk-real" / "queue_log"
    summary = import_files(store, [path], fmt="asterisk-cdr", settings=settings)
    (result,) = summary.files
    assert result.status == "failed"
    assert result.error is not None
    assert "not an Asterisk CDR" in result.error or "looks like asterisk-queue-log" in result.error


def test_a_failed_file_does_not_stop_the_others(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "good.csv").write_text(good(1) + "\n")
    summary = import_files(
        store, [tmp_path / "empty.csv", tmp_path / "good.csv"], settings=settings
    )
    assert [f.status for f in summary.files] == ["failed", "imported"]
    assert summary.total_calls == 1
