"""The durable inbox: a live event is acknowledged only after it is committed here.

Every event, whatever brought it (a webhook, the AMI socket, a replay), is kept as received
(a JSON text) under a content hash: receiving it twice, or again after a reconnect, adds nothing.
Writes are group-committed: the many events that arrive while one transaction commits are
written by the next one, so the commit cost (the WAL sync) is shared and thousands of events per
second cost a few transactions. The driver (callscope.live.driver) later moves each finished
call's events from here into its source's raw table.

The inbox is a DuckDB file of its own beside the store (`calls.duckdb` -> `calls.inbox.duckdb`),
attached to the store's database as `TABLE`'s catalog. A checkpoint of the store file holds up
every writer of that file for its whole length (0.1-1 s on a 150k-call store, every ~14 s at
2,000 events/s): with the inbox in the same file, every acknowledgement waiting meanwhile
waited for it (ack p99 0.6-1.1 s in bench/live.py). Writes to another attached file go on.
DuckDB writes one attached database per transaction, which the move already respects: the
calls are kept in one transaction on the store, the moved events deleted here in the next (a
crash between them re-stages events the raw table keeps, which the move skips).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import duckdb

from callscope.errors import StoreError
from callscope.store import Store
from callscope.store.connection import storage_version_for

T = TypeVar("T")

CATALOG = "callscope_inbox"
TABLE = f"{CATALOG}.live_inbox"
_COLUMNS = """(
    tenant VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    event_key UBIGINT NOT NULL,
    seq BIGINT NOT NULL,
    call_key VARCHAR,
    received_at TIMESTAMP NOT NULL,
    payload VARCHAR NOT NULL
)"""


def inbox_path(store: Store) -> str:
    """The inbox file of a store file (`:memory:` for a store in memory)."""
    if store.path is None:
        return ":memory:"
    return str(store.path.with_name(f"{store.path.stem}.inbox{store.path.suffix}"))


def attach_inbox(store: Store) -> None:
    """Attach the store's inbox file (creating it) to its database, once per database: every
    connection and cursor of it sees `TABLE` from then on. Events a store kept in its own
    file (the inbox's home before it had one) move over first: copied in one transaction,
    the old table dropped in the next; a crash between them leaves copies the second try
    skips, since the copy leaves out keys already there."""
    con = store.con
    attached = con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [CATALOG]
    ).fetchone()
    if not (attached and attached[0]):
        path = inbox_path(store)
        quoted = path.replace("'", "''")
        version = storage_version_for(path)
        options = f" (STORAGE_VERSION '{version}')" if version else ""
        try:
            con.execute(f"ATTACH '{quoted}' AS {CATALOG}{options}")
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the live inbox {path}: {exc}") from exc
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} {_COLUMNS}")
    old = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = 'live_inbox'"
    ).fetchone()
    if old and old[0]:
        con.execute(
            f"INSERT INTO {TABLE} SELECT o.* FROM main.live_inbox o ANTI JOIN {TABLE} n"
            " ON n.tenant = o.tenant AND n.source = o.source AND n.event_key = o.event_key"
        )
        con.execute("DROP TABLE main.live_inbox")


@dataclass(frozen=True)
class Incoming:
    """One event to keep: its source name, its JSON text and the call it belongs to."""

    source: str
    payload: str
    call_key: str | None


class Inbox:
    """Synchronous writes of events; one thread writes (see `Worker`), others may read."""

    # How many recent event keys are remembered (two generations of this many): a repeat of an
    # older event is written again and then skipped by the move (ingest_staged keeps a record
    # key once), so the bound costs a row, never a duplicate call or leg.
    REMEMBER = 200_000

    def __init__(self, store: Store, tenant: str) -> None:
        self.store = store
        self.tenant = tenant
        attach_inbox(store)
        row = store.con.execute(f"SELECT coalesce(max(seq), 0) FROM {TABLE}").fetchone()
        self._seq = int(row[0]) if row else 0
        self._seen: set[tuple[str, int]] = {
            (str(r[0]), int(r[1]))
            for r in store.con.execute(
                f"SELECT source, event_key FROM {TABLE} WHERE tenant = ?", [tenant]
            ).fetchall()
        }
        self._older: set[tuple[str, int]] = set()

    def write(self, events: Sequence[Incoming]) -> int:
        """Commit the new ones of `events` in one transaction; returns how many were new.

        Which are new is decided here, from the keys of the events this inbox wrote (and those
        it found at start): asking the table (an anti-join per commit) cost more than the
        insert and the commit together. The key is DuckDB's `hash` of the text, as before.
        """
        if not events:
            return 0
        con = self.store.con
        payloads = [e.payload for e in events]
        # fetchall, not fetchone: a result not read to its end keeps the cursor's transaction
        # open (until its next statement: none, if every event is a repeat), and while it is
        # open no checkpoint of the store can run (`LiveService.checkpoint`).
        (row,) = con.execute("SELECT list_transform($1, p -> hash(p))", [payloads]).fetchall()
        keys = [int(k) for k in row[0]]
        rows: list[tuple[int, Incoming]] = []
        batch: set[tuple[str, int]] = set()
        for key, event in zip(keys, events, strict=True):
            seen = (event.source, key)
            if seen in batch or seen in self._seen or seen in self._older:
                continue
            batch.add(seen)
            rows.append((key, event))
        if not rows:
            return 0
        first = self._seq + 1
        # One statement is one transaction: committed (WAL synced) when execute returns.
        con.execute(
            f"""
            INSERT INTO {TABLE}
            SELECT $1, unnest($2), unnest($3), unnest($4), unnest($5), now()::TIMESTAMP,
                   unnest($6)
            """,
            [
                self.tenant,
                [e.source for _, e in rows],
                [k for k, _ in rows],
                list(range(first, first + len(rows))),
                [e.call_key for _, e in rows],
                [e.payload for _, e in rows],
            ],
        )
        self._seq += len(rows)
        self._seen |= batch
        if len(self._seen) > self.REMEMBER:
            self._older, self._seen = self._seen, set()
        return len(rows)


class Worker:
    """One thread owns the store: the inbox writes, the driver and the notifier queue their
    work on it, so a DuckDB connection is never used by two threads at once."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callscope-store")
        self.lock = threading.Lock()

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class GroupCommit(Generic[T]):
    """`await put_many(items)` returns once `flush` has handled them (committed them to the
    inbox; handed them to the store process, `live.relay`). The items that arrive while one
    flush runs go together in the next, so its cost - the WAL sync, a round trip - is shared.
    A flush that raises fails the calls whose items it held, and only those."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[object]]) -> None:
        self.flush = flush
        self._pending: list[tuple[list[T], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def put(self, item: T) -> None:
        await self.put_many([item])

    async def put_many(self, items: Sequence[T]) -> None:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((list(items), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.flush([item for items, _ in batch for item in items])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():  # (a caller that went away cancelled its own)
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
