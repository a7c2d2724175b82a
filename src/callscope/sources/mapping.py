"""The mapping file of the mapped-csv source: which column of an export holds which call field.

Cloud PBXs and call-centre systems export call history as CSV with their own column names,
clock formats and status words. Rather than one parser per vendor, the user describes the file
once in TOML (docs/mapping.md) and the mapped-csv source turns each field into SQL over the
file's columns. This module only validates the file and renders those SQL expressions; reading
the CSV and producing facts is mapped_csv.py's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callscope.errors import ConfigError
from callscope.model import Direction, EndStage, LegResult
from callscope.settings import read_toml, validation_problems

TIME_FIELDS = frozenset({"started_at", "answered_at", "ended_at", "ring_started_at"})
DURATION_FIELDS = frozenset({"wait_s", "talk_s"})
TEXT_FIELDS = (
    "call_key", "caller", "callee", "line", "direction", "agent", "extension", "queue",
    "outcome", "result", "end_stage", "hangup_side", "ivr_path", "recording",
)  # fmt: skip
FIELDS = (
    "call_key", "started_at", "answered_at", "ended_at", "ring_started_at", "caller", "callee",
    "line", "direction", "agent", "extension", "queue", "wait_s", "talk_s", "outcome", "result",
    "end_stage", "hangup_side", "ivr_path", "recording",
)  # fmt: skip
REQUIRED_FIELDS = ("call_key", "started_at")

# What a row was, in the words the facts understand; "ignore" keeps the row raw, makes no facts.
OUTCOMES = (
    "answered", "abandoned", "no_answer", "busy", "voicemail", "after_hours",
    "invalid_destination", "failed", "ignore",
    # why an unanswered inbound call ended (calls.disposition, docs/import.md)
    "timeout", "exit_key", "join_empty", "leave_empty", "full", "callback_requested",
    "external_forward",
)  # fmt: skip
# Outcomes that say how an unanswered inbound call ended, in calls.disposition's words.
EXIT_OUTCOMES = (
    "abandoned", "timeout", "exit_key", "join_empty", "leave_empty", "full", "after_hours",
    "callback_requested", "voicemail", "external_forward", "invalid_destination",
)  # fmt: skip
VOCABULARY: dict[str, tuple[str, ...]] = {
    "outcome": OUTCOMES,
    "direction": tuple(d.value for d in Direction),
    "end_stage": tuple(s.value for s in EndStage),
    "result": tuple(r.value for r in LegResult),
    "hangup_side": ("caller", "agent"),
}
DEFAULT_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
)  # fmt: skip
WRAP_HOURS = 12  # a clock time this far before the call's start belongs to the next day


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class FieldSpec(BaseModel):
    """Where one canonical field comes from: a column, a SQL expression, a date column plus a
    clock-time column, or the first non-empty of several such specs."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    sql: str | None = None
    date: str | None = None
    time: str | None = None
    first: list[FieldSpec] | None = None
    null: list[str] = Field(default_factory=list)
    format: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"column": value}
        if isinstance(value, list):
            return {"first": value}
        if isinstance(value, dict) and isinstance(value.get("format"), str):
            return {**value, "format": [value["format"]]}
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        kinds = [
            k
            for k, present in (
                ("column", self.column is not None),
                ("sql", self.sql is not None),
                ("date/time", self.date is not None or self.time is not None),
                ("first", self.first is not None),
            )
            if present
        ]
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one of: a column name, {column = ...}, {sql = ...}, "
                "{date = ..., time = ...} or a list of those"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if (self.date is None) != (self.time is None):
            raise ValueError("a date/time field needs both `date` and `time` columns")
        if self.first is not None and not self.first:
            raise ValueError("the list of alternatives is empty")
        return self

    def columns(self) -> set[str]:
        """Columns the spec names directly (SQL expressions are checked by DuckDB)."""
        found = {c for c in (self.column, self.date, self.time) if c is not None}
        for alt in self.first or []:
            found |= alt.columns()
        return found


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(
        default=",",
        description='One character, "tab", or "auto" (the commonest of , ; tab | in the header)',
    )
    header: bool = True
    columns: list[str] | None = Field(default=None, description="Names for a headerless file")
    skip: int = Field(default=0, ge=0, description="Lines before the header (titles, notes)")
    quote: str = Field(default='"', description='Quote character; "" when values are never quoted')
    trim: bool = Field(default=False, description="Strip spaces around every value")

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        value = "\t" if value in {"tab", "\\t"} else value
        if len(value) != 1 and value != "auto":
            raise ValueError(f"delimiter must be one character (or 'tab'), not {value!r}")
        return value

    @field_validator("quote")
    @classmethod
    def _quote(cls, value: str) -> str:
        if len(value) > 1:
            raise ValueError(f"quote must be one character or empty, not {value!r}")
        return value


class Mapping(BaseModel):
    """A whole mapping file (docs/mapping.md is its user documentation)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    kind: Literal["call", "leg"] = "call"
    timezone: str | None = None
    time_format: list[str] = Field(default_factory=lambda: list(DEFAULT_TIME_FORMATS))
    wrap_midnight: bool = False
    csv: CsvOptions = Field(default_factory=CsvOptions)
    fields: dict[str, FieldSpec]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("time_format", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (an IANA name)") from exc
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _known_fields(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(FIELDS))
            if unknown:
                raise ValueError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")
            missing = [f for f in REQUIRED_FIELDS if f not in value]
            if missing:
                raise ValueError(f"field {missing[0]!r} is required")
        return value

    @field_validator("values")
    @classmethod
    def _known_values(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for field, table in value.items():
            if field not in FIELDS:
                raise ValueError(f"unknown field {field!r} in [values]")
            allowed = VOCABULARY.get(field)
            for source, target in table.items():
                if allowed is not None and target not in allowed:
                    raise ValueError(
                        f"[values.{field}] {source!r} = {target!r}: "
                        f"must be one of {', '.join(allowed)}"
                    )
        return value

    def referenced_columns(self) -> dict[str, str]:
        """Column name -> the first field that names it, for 'missing column' messages."""
        found: dict[str, str] = {}
        for field, spec in self.fields.items():
            for column in sorted(spec.columns()):
                found.setdefault(column, field)
        return found


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; every problem is a ConfigError naming file and key."""
    data = read_toml(path, "mapping file")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {validation_problems(exc, _PYDANTIC_NOISE)}") from exc


_PYDANTIC_NOISE = frozenset({"function-after[_one_source(), FieldSpec]"})


class FieldSql:
    """Renders a field as SQL over the file's columns (all read as VARCHAR).

    `text(field)` is the value as written (NULL when empty or a null sentinel, value maps
    applied); `typed(field)` converts it: TIMESTAMP (still local time) for time fields, DOUBLE
    seconds for durations. A non-NULL text whose typed value is NULL is a reject.
    """

    def __init__(self, mapping: Mapping, trim: bool) -> None:
        self.mapping = mapping
        self.trim = trim

    def _col(self, name: str) -> str:
        ref = quote_ident(name)
        return f"nullif(trim({ref}), '')" if self.trim else f"nullif({ref}, '')"

    def _source(self, spec: FieldSpec) -> str:
        if spec.column is not None:
            text = self._col(spec.column)
        elif spec.sql is not None:
            text = f"nullif(CAST(({spec.sql}) AS VARCHAR), '')"
        elif spec.date is not None and spec.time is not None:
            time_col = self._col(spec.time)
            if spec.null:
                time_col = (
                    f"CASE WHEN {time_col} IN ({_in_list(spec.null)}) THEN NULL ELSE {time_col} END"
                )
            return f"({self._col(spec.date)} || ' ' || {time_col})"
        else:
            return "coalesce(" + ", ".join(self._source(alt) for alt in spec.first or []) + ")"
        if spec.null:
            text = f"CASE WHEN {text} IN ({_in_list(spec.null)}) THEN NULL ELSE {text} END"
        return text

    def text(self, field: str) -> str:
        spec = self.mapping.fields.get(field)
        if spec is None:
            return "NULL::VARCHAR"
        text = self._source(spec)
        table = self.mapping.values.get(field)
        if table:
            cases = " ".join(
                f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in table.items()
            )
            text = f"(CASE {text} {cases} ELSE {text} END)"
        return text

    def formats(self, field: str) -> list[str]:
        spec = self.mapping.fields.get(field)
        return (
            spec.format if spec is not None and spec.format else None
        ) or self.mapping.time_format

    def typed(self, field: str, text: str) -> str:
        """SQL converting the text column `text` (already computed) to the field's type."""
        if field in TIME_FIELDS:
            fmts = "[" + ", ".join(quote_literal(f) for f in self.formats(field)) + "]"
            return f"coalesce(try_strptime({text}, {fmts}), try_cast({text} AS TIMESTAMP))"
        if field in DURATION_FIELDS:
            return (
                f"CASE WHEN regexp_full_match({text}, '\\d+(:\\d{{1,2}}){{1,2}}') THEN "
                f"list_reduce(list_transform(string_split({text}, ':'), x -> x::DOUBLE), "
                f"(a, b) -> a * 60 + b) ELSE try_cast(replace({text}, ',', '.') AS DOUBLE) END"
            )
        return text

    def wraps(self, field: str) -> bool:
        """Whether a time field is a clock time on the row's date (may need the next day)."""
        spec = self.mapping.fields.get(field)
        if not self.mapping.wrap_midnight or spec is None or field == "started_at":
            return False
        specs = spec.first if spec.first is not None else [spec]
        return any(s.date is not None for s in specs)


def _in_list(values: list[str]) -> str:
    return ", ".join(quote_literal(v) for v in values)
