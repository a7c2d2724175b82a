"""The dashboard in Russian, Ukrainian and English: words from one catalogue, numbers, dates and
durations in the reader's locale (Babel's CLDR data), times in the tenant's zone.

Report columns are translated by their JSON key, so a new metric column shows up named by its
key until the catalogue learns it: nothing breaks, it only reads less well.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from callscope.metrics.rowtext import list_text
from callscope.web.messages import MESSAGES

Instant = datetime  # the method `datetime` below shadows the type inside the class
LANGS = ("en", "ru", "uk")
LOCALES = {"en": "en_GB", "ru": "ru_RU", "uk": "uk_UA"}
SHARE_KEYS = frozenset({"asr", "sl", "service_level", "occupancy", "gini_share"})
LANG_NAMES = {"en": "English", "ru": "Русский", "uk": "Українська"}


class Translator:
    """Everything a template needs to speak one language in one time zone."""

    def __init__(self, lang: str, timezone: str) -> None:
        self.lang = lang if lang in LANGS else "en"
        self.locale = LOCALES[self.lang]
        self.tz = ZoneInfo(timezone)

    def __call__(self, key: str, **values: Any) -> str:
        entry = MESSAGES.get(key)
        text = entry.get(self.lang) or entry["en"] if entry else key.replace("_", " ")
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in MESSAGES

    def column(self, key: str) -> str:
        """A report column's header: the catalogue's word, else the key made readable."""
        entry = MESSAGES.get(f"col.{key}")
        if entry:
            return entry.get(self.lang) or entry["en"]
        return key.replace("_", " ").capitalize()

    def value(self, key: str) -> str:
        """An enumeration value (outcome, end stage, role, colour) in words."""
        entry = MESSAGES.get(f"val.{key}")
        if entry:
            return entry.get(self.lang) or entry["en"]
        return key.replace("_", " ")

    def count(self, key: str, n: int) -> str:
        """`n` things in words with the locale's plural form (CLDR: 1 звонок, 3 звонка, 5
        звонков): the catalogue holds `<key>.one`, `.few`, `.many` and `.other`."""
        form = Locale.parse(self.locale).plural_form(n)
        chosen = f"{key}.{form}" if f"{key}.{form}" in MESSAGES else f"{key}.other"
        return self(chosen, n=self.number(n))

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        if digits == 0:
            return babel_numbers.format_decimal(round(value), locale=self.locale)
        return babel_numbers.format_decimal(
            value, format=f"#,##0.{'0' * digits}", locale=self.locale
        )

    def percent(self, share: float | None, digits: int = 1) -> str:
        if share is None:
            return "—"
        return babel_numbers.format_percent(
            share, format=f"#,##0.{'0' * digits}%", locale=self.locale
        )

    def duration(self, seconds: float | None) -> str:
        """Short human durations: 45 s, 3 min 20 s, 2 h 05 min."""
        if seconds is None:
            return "—"
        s = round(seconds)
        if s < 60:
            return self("unit.s", n=s)
        if s < 3600:
            return self("unit.min_s", m=s // 60, s=f"{s % 60:02d}")
        return self("unit.h_min", h=s // 3600, m=f"{(s % 3600) // 60:02d}")

    def local(self, value: datetime) -> datetime:
        """A naive UTC instant from the store, in the tenant's zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return value.astimezone(self.tz)

    def datetime(self, value: Instant | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = Instant.fromisoformat(value)
        return babel_dates.format_datetime(
            self.local(value), format="short", tzinfo=self.tz, locale=self.locale
        )

    def time(self, value: Instant | None) -> str:
        if value is None:
            return "—"
        return babel_dates.format_time(
            self.local(value), format="short", tzinfo=self.tz, locale=self.locale
        )

    def date(self, value: date | str | None, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return babel_dates.format_date(value, format=fmt, locale=self.locale)

    def weekday(self, index: int, width: str = "abbreviated") -> str:
        """Monday = 0, as ISO and Python count."""
        kind = cast(Literal["abbreviated", "narrow", "short", "wide"], width)
        names = babel_dates.get_day_names(kind, locale=self.locale)
        return str(names[index])

    @staticmethod
    def is_share(key: str) -> bool:
        """Columns holding a fraction 0..1 end like these (the metric layer's naming)."""
        return key.endswith(("_share", "_rate", "share", "rate", "_pct")) or key in SHARE_KEYS

    @staticmethod
    def is_seconds(key: str) -> bool:
        return key.endswith(("_s", "_sec")) or "_s_" in key or key in {"asa", "aht"}

    def cell(self, key: str, value: Any) -> str:
        """One report cell for people: the column's name tells its unit."""
        if value is None:
            return "—"
        if isinstance(value, bool):
            return self("yes") if value else self("no")
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, date):
            return self.date(value)
        if key == "weekday" and isinstance(value, int) and 1 <= value <= 7:
            return self.weekday(value - 1)  # the reports count ISO weekdays, Monday = 1
        if key == "day" and isinstance(value, str) and len(value) == 10:
            return self.date(value)
        if key == "hour" and isinstance(value, int) and 0 <= value <= 23:
            return f"{value:02d}:00"
        if isinstance(value, int | float):
            if self.is_share(key):
                return self.percent(float(value))
            if self.is_seconds(key):
                return self.duration(float(value))
            if isinstance(value, float) and not value.is_integer():
                return self.number(value, 2 if abs(value) < 1 else 1)
            return self.number(value)
        if isinstance(value, str) and key.endswith("_at") and len(value) >= 16:
            return self.datetime(value)
        if isinstance(value, str) and f"val.{value}" in MESSAGES:
            return self.value(value)
        return str(list_text(value))  # a list as every export prints it: 101, 102
