"""The durable inbox: a live event is acknowledged only after it is committed here.

Every event, whatever brought it (a webhook, the AMI socket, a replay), is kept as received
(a JSON text) under a content hash: receiving it twice, or again after a reconnect, adds nothing.
Writes are group-committed: the many events that arrive while one transaction commits are
written by the next one, so the commit cost (the WAL sync) is shared and thousands of events per
second cost a few transactions. The driver (callscope.live.driver) later moves each finished
call's events from here into its source's raw table, in the same store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from callscope.store import Store

T = TypeVar("T")


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
        row = store.con.execute("SELECT coalesce(max(seq), 0) FROM live_inbox").fetchone()
        self._seq = int(row[0]) if row else 0
        self._seen: set[tuple[str, int]] = {
            (str(r[0]), int(r[1]))
            for r in store.con.execute(
                "SELECT source, event_key FROM live_inbox WHERE tenant = ?", [tenant]
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
        row = con.execute("SELECT list_transform($1, p -> hash(p))", [payloads]).fetchone()
        keys = [int(k) for k in row[0]] if row else []
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
            """
            INSERT INTO live_inbox
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

    def _count(self) -> int:
        row = self.store.con.execute("SELECT count(*) FROM live_inbox").fetchone()
        return int(row[0]) if row else 0

    def pending(self) -> int:
        return self._count()


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
