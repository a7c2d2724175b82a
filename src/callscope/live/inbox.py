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
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa

from callscope.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Incoming:
    """One event to keep: its source name, its JSON text and the call it belongs to."""

    source: str
    payload: str
    call_key: str | None


class Inbox:
    """Synchronous writes of events; callers serialise access to the store (see `Worker`)."""

    def __init__(self, store: Store, tenant: str) -> None:
        self.store = store
        self.tenant = tenant
        row = store.con.execute("SELECT coalesce(max(seq), 0) FROM live_inbox").fetchone()
        self._seq = int(row[0]) if row else 0

    def write(self, events: Sequence[Incoming]) -> int:
        """Commit `events` in one transaction; returns how many were new."""
        if not events:
            return 0
        con = self.store.con
        first = self._seq + 1
        batch = pa.table(
            {
                "source": [e.source for e in events],
                "payload": [e.payload for e in events],
                "call_key": [e.call_key for e in events],
                "seq": list(range(first, first + len(events))),
            },
            schema=pa.schema(
                [
                    ("source", pa.string()),
                    ("payload", pa.string()),
                    ("call_key", pa.string()),
                    ("seq", pa.int64()),
                ]
            ),
        )
        self._seq += len(events)
        con.register("inbox_batch", batch)
        try:
            con.execute("BEGIN")
            # No primary key: an ART index costs more per commit than the whole insert, and
            # one thread writes here, so an anti-join over the (small) inbox is exact.
            row = con.execute(
                """
                INSERT INTO live_inbox
                SELECT ?, source, hash(payload) AS k, min(seq), any_value(call_key),
                       now()::TIMESTAMP, payload
                FROM inbox_batch b
                WHERE NOT EXISTS (SELECT 1 FROM live_inbox i WHERE i.event_key = hash(b.payload)
                                  AND i.source = b.source AND i.tenant = ?)
                GROUP BY source, payload
                """,
                [self.tenant, self.tenant],
            ).fetchone()
            new = int(row[0]) if row else 0
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("inbox_batch")
        return new

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


class GroupCommit:
    """`await put(event)` returns once the event is durable; concurrent puts share a commit."""

    def __init__(self, inbox: Inbox, worker: Worker) -> None:
        self.inbox = inbox
        self.worker = worker
        self._pending: list[tuple[Incoming, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def put(self, event: Incoming) -> bool:
        return (await self.put_many([event]))[0]

    async def put_many(self, events: Sequence[Incoming]) -> list[bool]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in events]
        self._pending.extend(zip(events, futures, strict=True))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return list(await asyncio.gather(*futures))

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            events = [e for e, _ in batch]
            try:
                await self.worker.run(functools.partial(self.inbox.write, events))
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(True)
