"""A report's rows as JSON or CSV text straight from its Arrow table, in slices.

A year of missed contacts at 10M calls is a million rows: as Python dicts they cost seconds and
gigabytes before the first byte is written. Here each column becomes its text at once (Arrow
compute), rows are joined from those, and the output is the same, byte for byte, as the Python
writers give for `Report.as_json()` / `Report.rows`: `json.dumps` with the caller's indent and
separators, `csv.writer` with lists as `list_text` prints them. Values Arrow cannot print the
way Python does (floats that are not whole, strings with control characters or CSV specials,
other types) are printed by Python, once per distinct value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callscope.metrics.report import Report

BATCH = 50_000  # rows per slice: a slice's text is tens of MB at most


@dataclass(frozen=True)
class JsonStyle:
    """How `json.dumps` was called: `indent` and the separators between items and after keys."""

    indent: int | None = None
    item_sep: str = ","
    key_sep: str = ":"
    allow_nan: bool = True

    def dumps(self, value: Any, level: int = 0) -> str:
        """The reference: Python's text for `value` nested `level` deep."""
        text = json.dumps(
            value,
            ensure_ascii=False,
            indent=self.indent,
            separators=(self.item_sep, self.key_sep),
            allow_nan=self.allow_nan,
            default=str,
        )
        if self.indent is None or level == 0:
            return text
        return text.replace("\n", "\n" + " " * (self.indent * level))

    def newline(self, level: int) -> str:
        return "" if self.indent is None else "\n" + " " * (self.indent * level)


CLI_JSON = JsonStyle(indent=1, item_sep=",", key_sep=": ")  # `callscope report --format json`
API_JSON = JsonStyle(allow_nan=False)  # FastAPI's JSONResponse


def json_chunks(
    report: Report, style: JsonStyle, head: dict[str, Any] | None = None
) -> Iterator[bytes | memoryview]:
    """The text of `report.as_json()` as `style` prints it, in pieces; `head` is the document
    without its rows when the caller prepared it (e.g. encoded for the web)."""
    doc = report.head() if head is None else head
    table = report.table
    if table is None:
        doc = dict(doc, rows=report.rows)
        yield style.dumps(doc).encode()
        return
    text = style.dumps(doc)
    if table.num_rows == 0:
        yield text.encode()
        return
    at = _rows_at(text, style)  # the "[" of the empty rows list
    yield text[: at + 1].encode()
    lead = len((style.item_sep).encode())  # the first row has no separator before it
    for start in range(0, table.num_rows, BATCH):
        rows = _json_rows(table.slice(start, BATCH), style)
        yield _text_bytes(rows, lead if start == 0 else 0)
    yield (style.newline(1) + "]" + text[at + 2 :]).encode()


def _rows_at(text: str, style: JsonStyle) -> int:
    """Where the value of the top level's "rows" (printed "[]") starts in `text`."""
    if style.indent is not None:
        # A key of the top level is the only thing that follows a newline and one indent.
        marker = f"{style.newline(1)}{style.dumps('rows')}{style.key_sep}[]"
        return text.index(marker) + len(marker) - 2
    decoder = json.JSONDecoder()
    pos = 1
    while True:
        key, pos = decoder.raw_decode(text, pos)
        pos += len(style.key_sep)
        if key == "rows":
            return pos
        _, pos = decoder.raw_decode(text, pos)
        pos += len(style.item_sep)


def _text_bytes(texts: pa.Array, skip: int = 0) -> bytes | memoryview:
    """The UTF-8 of a string array's values one after the other (its data buffer), less the
    first `skip` bytes; a view, not a copy (it keeps the Arrow buffer alive)."""
    if texts.null_count:  # a null would vanish from the buffer: a row lost without a word
        raise ValueError("a row's text is null")
    offsets = texts.buffers()[1]
    assert offsets is not None
    ends = memoryview(offsets).cast("q" if pa.types.is_large_string(texts.type) else "i")
    first, last = ends[texts.offset], ends[texts.offset + len(texts)]
    data = texts.buffers()[2]
    if data is None:
        return b""
    return memoryview(data.slice(first + skip, last - first - skip))


def _templated(parts: list[Any], n: int) -> pa.Array:
    """Each row's text: the literals and column texts of `parts` one after the other."""
    if all(isinstance(p, str) for p in parts):
        return pa.array(["".join(parts)] * n, pa.string())
    items: list[Any] = []
    for p in parts:
        if isinstance(p, str) and items and isinstance(items[-1], str):
            items[-1] += p
        else:
            items.append(p)
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in items]
    return _one_array(pc.binary_join_element_wise(*args, ""))


def _json_rows(part: pa.Table, style: JsonStyle) -> pa.Array:
    """Each row's text, led by the separator from the row before."""
    nl3 = style.newline(3)
    parts: list[Any] = [style.item_sep + style.newline(2) + "{"]
    for i, (name, col) in enumerate(zip(part.column_names, part.columns, strict=True)):
        parts.append((style.item_sep if i else "") + nl3 + style.dumps(name) + style.key_sep)
        text, bare = _json_text(col, style, 3)
        parts += ['"', text, '"'] if bare else [text]
    parts.append((style.newline(2) if part.num_columns else "") + "}")
    return _templated(parts, part.num_rows)


def _one_array(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return pa.concat_arrays(values.chunks) if values.num_chunks else pa.array([], pa.string())
    return values


def _json_text(col: Any, style: JsonStyle, level: int) -> tuple[pa.Array, bool]:
    """A column's JSON text; (values, True) when they are strings that need only the quotes
    around them (no nulls, nothing to escape): the row's template adds those."""
    col = _one_array(col) if isinstance(col, pa.ChunkedArray) else col
    text_kind = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    if text_kind and not _any(col, JSON_SPECIAL):
        if not col.null_count:
            return col, True
        quoted = pc.binary_join_element_wise(pa.scalar('"'), col, pa.scalar('"'), "")
        return pc.fill_null(quoted, "null"), False
    return _json_values(col, style, level), False


def _any(col: pa.Array, pattern: str) -> bool:
    """Some value of `col` matches `pattern` (a character class): first a scan of the bytes
    (cheaper than a regex a value), then, if it finds one, the regex."""
    if not _bytes_in(col, pattern):
        return False
    return bool(pc.any(pc.match_substring_regex(col, pattern)).as_py())


JSON_SPECIAL = r'["\\\x00-\x1f]'  # what json.dumps escapes (ensure_ascii=False)
CSV_SPECIAL = r'[,"\r\n]'  # what makes csv.writer quote a field


def _bytes_in(col: pa.Array, pattern: str) -> bool:
    """Whether the UTF-8 of `col` may hold a character of the class: a scan of the data
    buffer (no multi-byte character has an ASCII byte; bytes outside the values only send the
    caller to the exact test)."""
    data = col.buffers()[2] if pa.types.is_string(col.type) else None
    if data is None:
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    if pattern == JSON_SPECIAL:
        hits = (raw < 0x20) | (raw == ord('"')) | (raw == ord("\\"))
    elif pattern == CSV_SPECIAL:
        hits = (raw == ord(",")) | (raw == ord('"')) | (raw == ord("\r")) | (raw == ord("\n"))
    else:
        return True
    return bool(hits.any())


def _json_values(col: Any, style: JsonStyle, level: int) -> pa.Array:
    """Each value's JSON text (never null: a null is "null")."""
    col = _one_array(col) if isinstance(col, pa.ChunkedArray) else col
    kind = col.type
    if pa.types.is_dictionary(kind):
        return _json_values(col.dictionary_decode(), style, level)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _by_python(col, _quoted(col), _has_control(col), lambda v: style.dumps(v))
    elif pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        text = col.cast(pa.string())
    elif pa.types.is_floating(kind):
        text = _floats(col, lambda v: style.dumps(v))
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        text = _json_lists(col, style, level)
    else:
        text = _each(col, lambda v: style.dumps(v, level))
    return pc.fill_null(text, "null")


def _json_lists(col: Any, style: JsonStyle, level: int) -> pa.Array:
    lengths = pc.list_value_length(col)
    items = _json_values(pc.list_flatten(col), style, level + 1)
    offsets = pa.array([0, *_cumulative(lengths)], pa.int32())
    joined = pc.binary_join(
        pa.ListArray.from_arrays(offsets, items), style.item_sep + style.newline(level + 1)
    )
    inner = pc.binary_join_element_wise(
        pa.scalar("[" + style.newline(level + 1)), joined, pa.scalar(style.newline(level) + "]"), ""
    )
    empty = pc.equal(pc.fill_null(lengths, 1), 0)
    text = pc.if_else(empty, pa.scalar("[]"), inner)
    return pc.if_else(pc.is_null(col), pa.scalar(None, pa.string()), text)


def _cumulative(lengths: pa.Array) -> list[int]:
    return pc.cumulative_sum(pc.fill_null(lengths, 0)).to_pylist()  # type: ignore[no-any-return]


def _quoted(col: pa.Array) -> pa.Array:
    escaped = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise(pa.scalar('"'), escaped, pa.scalar('"'), "")


def _has_control(col: pa.Array) -> pa.Array:
    return pc.match_substring_regex(col, r"[\x00-\x1f]")


def _floats(col: pa.Array, reference: Callable[[Any], str]) -> pa.Array:
    """Whole floats below 1e16 print as Python prints them ("1234.0") from an integer cast;
    the rest (fractions, 0.0 and -0.0, NaN, infinities) through `reference`."""
    whole = pc.and_(
        pc.and_(pc.is_finite(col), pc.less(pc.abs(col), 1e16)),
        pc.and_(pc.equal(pc.floor(col), col), pc.not_equal(col, 0)),
    )
    whole = pc.fill_null(whole, True)
    ints = pc.if_else(whole, col, pa.scalar(1.0)).cast(pa.int64())
    text = pc.binary_join_element_wise(ints.cast(pa.string()), pa.scalar(".0"), "")
    return _by_python(col, text, pc.invert(whole), reference)


def _by_python(
    col: pa.Array, text: pa.Array, mask: pa.Array, reference: Callable[[Any], str]
) -> pa.Array:
    """`text`, with the values where `mask` holds printed by `reference` (once per distinct
    value); nulls stay null."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return text
    odd = pc.unique(pc.filter(col, mask))
    printed = pa.array([reference(v) for v in odd.to_pylist()], pa.string())
    fixed = pc.take(printed, pc.index_in(col, value_set=odd))
    return pc.if_else(mask, fixed, text)


def _each(col: pa.Array, reference: Callable[[Any], str]) -> pa.Array:
    return pa.array([None if v is None else reference(v) for v in col.to_pylist()], pa.string())


# --- CSV ----------------------------------------------------------------------------------


def csv_field(value: Any) -> str:
    """The reference: what `csv.writer` writes for one field of a row of several."""
    buf = io.StringIO()
    csv.writer(buf).writerow([value, ""])
    return buf.getvalue()[: -len(",\r\n")]


def list_text(value: Any) -> Any:
    """How every export (CSV, Excel and PDF; the CLI's, the API's and the dashboard's) prints a
    list in one cell: its items joined by ", " (`101, 102`), as a reader would write them; a
    mapping as JSON. Any other value is returned as it is. JSON output keeps lists as arrays."""
    if isinstance(value, list):
        return ", ".join(
            "" if v is None else str(list_text(v) if isinstance(v, list | dict) else v)
            for v in value
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def csv_chunks(
    table: pa.Table, columns: list[str], header: bool = True
) -> Iterator[bytes | memoryview]:
    """`csv.writer` output of the header `columns` and the rows' values for them, a list (or
    another nested value) printed by `list_text`; as UTF-8, in pieces."""
    if header:
        yield _csv_line([csv_field(c) for c in columns]).encode()
    if not columns or table.num_rows == 0:
        return
    if len(columns) == 1:  # csv quotes a lone empty field: let Python write such rows
        for value in table.column(columns[0]).to_pylist():
            yield _csv_line([_one_field(value)]).encode()
        return
    for start in range(0, table.num_rows, BATCH):
        part = table.slice(start, BATCH)
        parts: list[Any] = []
        for i, c in enumerate(columns):
            parts += [",", _csv_values(part.column(c))] if i else [_csv_values(part.column(c))]
        yield _text_bytes(_templated([*parts, "\r\n"], part.num_rows))


def _csv_line(fields: list[str]) -> str:
    return ",".join(fields) + "\r\n"


def _one_field(value: Any) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([list_text(value)])
    return buf.getvalue()[:-2]


def _csv_values(col: Any) -> pa.Array:
    col = _one_array(col) if isinstance(col, pa.ChunkedArray) else col
    kind = col.type
    if pa.types.is_dictionary(kind):
        return _csv_values(col.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _csv_strings(col)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(col, pa.scalar("True"), pa.scalar("False"))
    elif pa.types.is_integer(kind):
        text = col.cast(pa.string())
    elif pa.types.is_floating(kind):
        text = _floats(col, csv_field)
    elif _is_plain_list(kind) and pc.list_flatten(col).null_count == 0:
        # list_text's items joined by ", ": whole numbers print alike in Arrow and Python
        text = _csv_strings(pc.binary_join(col.cast(pa.list_(pa.string())), ", "))
    else:
        return pc.fill_null(_each(col, lambda v: csv_field(list_text(v))), "")
    return pc.fill_null(text, "")


def _csv_strings(col: pa.Array) -> pa.Array:
    """csv.writer's field for each string: quoted when it holds a comma; one with a quote or a
    line break (quotes doubled) is written by Python."""
    if not _any(col, CSV_SPECIAL):
        return col
    comma = pc.fill_null(pc.match_substring(col, ","), False)
    wrapped = pc.binary_join_element_wise(pa.scalar('"'), col, pa.scalar('"'), "")
    text = pc.if_else(comma, wrapped, col)
    return _by_python(col, text, pc.match_substring_regex(col, r'["\r\n]'), csv_field)


def _is_plain_list(kind: pa.DataType) -> bool:
    """A list of strings or whole numbers (whose text Arrow and str() agree on)."""
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return False
    inner = kind.value_type
    return bool(
        pa.types.is_string(inner) or pa.types.is_large_string(inner) or pa.types.is_integer(inner)
    )
