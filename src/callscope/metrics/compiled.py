"""Compiled report queries: each report's SQL is compiled once per *shape* and reused.

Compiling an Ibis expression costs far more than running it on a day's or a month's calls
(0.2-0.7 s per report against a few milliseconds), and the web pages, the notifier and the
digests ask the same questions over and over with other periods, tenants or agents. So every
value a request varies is an `ibis.param` (named here, with a recipe that reads it off the
request's scope), the expression is built and compiled once per shape (which filters are set,
the settings, the store's schema), and later requests only put their values into the SQL.

The values are SQL literals rendered by the engine's own Ibis compiler, so the template with
them in place is character for character what compiling the expression with those values
gives (the tests check exactly that with `VERIFY`). The compile uses sentinel values that
cannot occur in a query by themselves and splits the SQL text at them; a shape whose sentinels
cannot all be found is not cached (it is compiled every time, as before).

On DuckDB a template is also prepared once per connection, with a numbered parameter cast to
its type where each literal went, and run with the same literals as arguments (`PREPARED`):
DuckDB then keeps the plan, and binding and optimising the SQL (most of a small report's time)
is done once. With `VERIFY`, the prepared statement's rows must be those of a fresh compile.

Only DuckDB runs from the cache; other engines (Spark) compile every time with the values
bound as literals (`literal` scopes), which is also what expressions handed to callers use.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

ENABLED = True  # False: every engine compiles every query (the baseline of bench/reports.py)
VERIFY = os.environ.get("CALLSCOPE_VERIFY_SQL") == "1"  # on a hit, compile afresh and compare
CACHE_SIZE = 512


@dataclass(frozen=True)
class Param:
    """A named query parameter and how a scope supplies its value."""

    name: str
    expr: ir.Scalar
    dtype: dt.DataType
    value: Callable[[Any], Any]


_PARAMS: dict[str, Param] = {}
_BY_OP: dict[ops.Node, str] = {}
_LOCK = threading.Lock()


def param(name: str, dtype: str, value: Callable[[Any], Any]) -> ir.Scalar:
    """The parameter called `name` (one object per name for the process, so expressions
    built by different requests are the same expression). `value(scope)` gives its value."""
    with _LOCK:
        got = _PARAMS.get(name)
        if got is None:
            expr = ibis.param(dtype)
            got = Param(name, expr, ibis.dtype(dtype), value)
            _PARAMS[name] = got
            _BY_OP[expr.op()] = name
        elif got.dtype != ibis.dtype(dtype):
            raise ValueError(f"parameter {name!r} is {got.dtype}, not {dtype}")
    return got.expr


def bindings(expr: ir.Expr, scope: Any) -> dict[ir.Scalar, Any]:
    """Values for the parameters `expr` uses, read off `scope` (for an uncached run)."""
    found = expr.op().find(ops.ScalarParameter)
    return {_PARAMS[_BY_OP[op]].expr: _PARAMS[_BY_OP[op]].value(scope) for op in found}


@dataclass(frozen=True)
class Template:
    """SQL text cut at its parameters: chunks[0] names[0] chunks[1] ... chunks[-1]."""

    chunks: tuple[str, ...]
    names: tuple[str, ...]
    expr: ir.Table  # for the result's types, and it keeps the in-memory tables alive
    memtables: tuple[ops.InMemoryTable, ...]

    def fill(self, text_of: Callable[[str], str]) -> str:
        """The SQL with `text_of(name)` where each parameter goes."""
        parts = [self.chunks[0]]
        for name, chunk in zip(self.names, self.chunks[1:], strict=True):
            parts.append(text_of(name))
            parts.append(chunk)
        return "".join(parts)

    def sql(self, literal: Callable[[Param, Any], str], scope: Any) -> str:
        return self.fill(lambda name: literal(_PARAMS[name], _PARAMS[name].value(scope)))

    def statement(self, type_name: Callable[[dt.DataType], str]) -> tuple[str, tuple[str, ...]]:
        """The SQL with a numbered parameter, cast to its type, where each value goes (one
        number per parameter however often it occurs), and the names in number order."""
        order = tuple(dict.fromkeys(self.names))
        number = {name: i for i, name in enumerate(order, 1)}
        sql = self.fill(lambda n: f"CAST(${number[n]} AS {type_name(_PARAMS[n].dtype)})")
        return sql, order


def _sentinel(i: int, dtype: dt.DataType) -> Any:
    """A value of `dtype` no report puts in a query, distinct per parameter."""
    if dtype.is_timestamp():
        return datetime(1001 + i, 1, 1, 0, 0, 0, 1)
    if dtype.is_date():
        return date(1001 + i, 1, 1)
    if dtype.is_integer():
        return 987_654_321_000 + i
    if dtype.is_string():
        return f"~callscope-param-{i}~"
    if dtype.is_array():
        return [_sentinel(i, dtype.value_type)]
    raise TypeError(f"no sentinel for parameters of type {dtype}")


def render(backend: Any, dtype: dt.DataType, value: Any) -> str:
    """`value` as the SQL literal the backend's Ibis compiler writes for it."""
    op = ops.Literal(value, dtype)
    compiler = backend.compiler
    node = compiler.visit_Literal(op, value=op.value, dtype=op.dtype)
    text: str = node.sql(dialect=backend.dialect)
    return text


def _trace(i: int, dtype: dt.DataType) -> str:
    """What of parameter i's sentinel would show in SQL whatever form it took."""
    if dtype.is_timestamp() or dtype.is_date():
        return rf"(?<!\d){1001 + i}(?!\d)"
    if dtype.is_integer():
        return rf"(?<!\d){987_654_321_000 + i}(?!\d)"
    if dtype.is_array():
        return _trace(i, dtype.value_type)
    return re.escape(f"~callscope-param-{i}~")


def compile_template(backend: Any, expr: ir.Table) -> Template | None:
    """Compile `expr` once with sentinels for its parameters and cut the SQL at them. None
    when a sentinel shows in the SQL other than as the literal the compiler writes for it
    (then this shape is compiled on every run). A parameter can vanish from the SQL (Ibis
    drops columns nobody reads): it is then not needed."""
    names = sorted({_BY_OP[op] for op in expr.op().find(ops.ScalarParameter)})
    values = {_PARAMS[n].expr: _sentinel(i, _PARAMS[n].dtype) for i, n in enumerate(names)}
    sql: str = backend.compile(expr, params=values)
    texts = {render(backend, _PARAMS[n].dtype, values[_PARAMS[n].expr]): n for n in names}
    if len(texts) != len(names):
        return None
    pattern = re.compile(
        "|".join(rf"(?<![\w.]){re.escape(t)}(?![\w.])" for t in sorted(texts, key=len)[::-1])
    )
    chunks: list[str] = []
    used: list[str] = []
    last = 0
    for m in pattern.finditer(sql):
        chunks.append(sql[last : m.start()])
        used.append(texts[m.group(0)])
        last = m.end()
    chunks.append(sql[last:])
    rest = "".join(chunks)
    for i, n in enumerate(names):
        if re.search(_trace(i, _PARAMS[n].dtype), rest):
            return None
    memtables = tuple(expr.op().find(ops.InMemoryTable))
    return Template(tuple(chunks), tuple(used), expr, memtables)


class _Cache:
    """Templates by (query key, scope shape), least recently used out first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, Template | None] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Template | None]:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                self.hits += 1
                return True, self.items[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, template: Template | None) -> None:
        with self.lock:
            self.items[key] = template
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.hits = self.misses = 0


CACHE = _Cache(CACHE_SIZE)


def _register(backend: Any, memtables: tuple[ops.InMemoryTable, ...]) -> None:
    """Make the template's in-memory tables known to this connection, as Ibis does before it
    runs an expression (its bookkeeping, so an expression run by Ibis later is not
    registered twice)."""
    for op in memtables:
        if op not in backend._memtables:
            backend._register_in_memory_table(op)
            backend._memtables.add(op)


def run(
    backend: Any,
    key: Hashable,
    build: Callable[[], ir.Table],
    scope: Any,
) -> pa.Table:
    """The result of the query `key` for this scope: from the cached template when the shape
    was compiled before, else compiled now (and cached)."""
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    found, template = CACHE.get(key)
    if not found:
        template = compile_template(backend, build())
        CACHE.put(key, template)
    if template is None:  # not cacheable: compile with the values, as Ibis would
        expr = build()
        return expr.to_pyarrow(params=bindings(expr, scope))
    memo: dict[tuple[str, Any], str] = {}

    def literal(p: Param, value: Any) -> str:
        k = (p.name, _hashable(value))
        if k not in memo:
            memo[k] = render(backend, p.dtype, value)
        return memo[k]

    _register(backend, template.memtables)
    statement = PREPARED.name(backend, template)
    if statement is None:
        table = backend.con.sql(template.sql(literal, scope)).to_arrow_table()
    else:
        name, order = statement
        values = ", ".join(literal(_PARAMS[n], _PARAMS[n].value(scope)) for n in order)
        table = backend.con.execute(f"EXECUTE {name}({values})").to_arrow_table()
    result: pa.Table = template.expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)
    if VERIFY and found:
        sql = template.sql(literal, scope)
        _verify(backend, key, build(), scope, sql, result, prepared=statement is not None)
    return result


class _Prepared:
    """The templates prepared as statements on each connection (DuckDB keeps a prepared
    statement's plan: binding and optimising a report's SQL took 2-20 ms, more than running
    it for a few numbers, on every call of a live pass). DuckDB binds a statement again by
    itself after any change to the temporary tables and views, so it is never stale. A
    template DuckDB cannot prepare runs as SQL text."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.by_con: weakref.WeakKeyDictionary[Any, OrderedDict[int, _Statement]] = (
            weakref.WeakKeyDictionary()
        )
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)

    def name(self, backend: Any, template: Template) -> tuple[str, tuple[str, ...]] | None:
        con = backend.con
        with self.lock:
            kept = self.by_con.setdefault(con, OrderedDict())
            got = kept.get(id(template))
            if got is not None and got.template is template:
                kept.move_to_end(id(template))
                return got.statement
        sql, order = template.statement(backend.compiler.type_mapper.to_string)
        name = f"callscope_q{next(self.numbers)}"
        try:
            con.execute(f"PREPARE {name} AS {sql}")
            statement: tuple[str, tuple[str, ...]] | None = (name, order)
        except duckdb.InterruptException:
            raise  # (a live pass cut short: not a template DuckDB cannot prepare)
        except duckdb.Error:
            statement = None
        with self.lock:
            kept[id(template)] = _Statement(template, statement)
            while len(kept) > self.size:
                _, old = kept.popitem(last=False)
                if old.statement is not None:
                    con.execute(f"DEALLOCATE {old.statement[0]}")
        return statement

    def clear(self) -> None:
        """Forget every connection's statements (tests: they stay prepared in DuckDB)."""
        with self.lock:
            self.by_con = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Statement:
    template: Template  # (kept: the key is its id)
    statement: tuple[str, tuple[str, ...]] | None


PREPARED = _Prepared(CACHE_SIZE)


def _verify(
    backend: Any,
    key: Hashable,
    fresh: ir.Table,
    scope: Any,
    sql: str,
    got: pa.Table,
    *,
    prepared: bool,
) -> None:
    """The SQL a fresh compile writes must be ours; where Ibis simplified it for the values
    (two predicates that became the same with them), and whenever the rows came from the
    prepared statement, the result must be the same."""
    expected_sql = backend.compile(fresh, params=bindings(fresh, scope))
    if sql == expected_sql and not prepared:
        return
    expected = fresh.to_pyarrow(params=bindings(fresh, scope))
    if sorted(map(repr, got.to_pylist())) != sorted(map(repr, expected.to_pylist())):
        raise AssertionError(f"reused SQL for {key!r} gives other rows than a fresh compile")


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, Mapping):
        return tuple(sorted(value.items()))
    return value  # type: ignore[no-any-return]
