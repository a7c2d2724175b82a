"""Customer numbers to E.164, once per distinct number (the store caches every answer).

Internal extensions and withheld numbers are never customers: they normalise to NULL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import phonenumbers

_WITHHELD = {"anonymous", "unknown", "private", "restricted", "unavailable", "withheld"}
_KEEP = re.compile(r"[^0-9+]")
_LETTERS = re.compile(r"[^\W\d_]")


def to_e164(raw: str | None, region: str, max_internal_digits: int) -> str | None:
    """E.164 for a number as a PBX wrote it (`89161234567`, `+7 916 ...`, `0079161234567`),
    None for extensions, withheld and impossible numbers; an identity with letters as it is."""
    if raw is None:
        return None
    text = raw.strip()
    if not text or text.lower() in _WITHHELD:
        return None
    if _LETTERS.search(text):
        # Not a phone number but still a customer's identity (a CRM or bank customer id,
        # `customer:3374691`): kept verbatim so repeat callers are still recognised.
        return text
    digits = _KEEP.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    bare = digits.lstrip("+")
    if not bare.isdigit() or len(bare) <= max_internal_digits:
        return None
    try:
        parsed = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def normalise_numbers(
    con: duckdb.DuckDBPyConnection, numbers_sql: str, region: str, max_internal_digits: int
) -> int:
    """Fill the `phone_numbers` cache for the distinct raw numbers `numbers_sql` selects
    (one column) that it does not know yet; returns how many were new."""
    rows = con.execute(
        f"""
        SELECT DISTINCT n FROM ({numbers_sql}) AS t(n)
        WHERE n IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM phone_numbers p WHERE p.region = ? AND p.raw = t.n)
        """,
        [region],
    ).fetchall()
    new = [(region, raw, to_e164(raw, region, max_internal_digits)) for (raw,) in rows]
    if new:
        _insert(con, new)
    return len(new)


def _insert(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple[str, str, str | None]]) -> None:
    import pyarrow as pa

    region, raw, e164 = zip(*rows, strict=True)
    batch = pa.table({"region": list(region), "raw": list(raw), "e164": list(e164)})
    con.register("new_phone_numbers", batch)
    try:
        con.execute("INSERT INTO phone_numbers SELECT region, raw, e164 FROM new_phone_numbers")
    finally:
        con.unregister("new_phone_numbers")
