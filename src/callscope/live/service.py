"""The live service: one object owns the store's live work (inbox, driver, tracker, outbox,
board) so the HTTP router, the AMI client and the CLI share it. `start()` runs the background
loop: move finished calls, scan for missed contacts, send due messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from callscope.live.board import Board
from callscope.live.driver import AMI, WEBHOOK, Driver
from callscope.live.events import LiveEvent
from callscope.live.inbox import GroupCommit, Inbox, Incoming, Worker
from callscope.live.notifier import Tracker
from callscope.live.outbox import AppriseSender, Sender, send_due
from callscope.settings import Settings
from callscope.store import Store

RESCAN = timedelta(seconds=10)
SCAN_GAP = timedelta(seconds=0.3)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class LiveService:
    def __init__(self, store: Store, settings: Settings, sender: Sender | None = None) -> None:
        self.store = store
        self.settings = settings
        self.worker = Worker()
        # Intake writes on its own thread and connection: acknowledging an event never waits
        # for an assembly or a metrics scan running on the main one.
        self.intake_worker = Worker()
        intake = Store(ibis=store.ibis, con=store.con.cursor(), path=store.path)
        self.inbox = Inbox(intake, settings.tenant)
        self.commit = GroupCommit(self.inbox, self.intake_worker)
        self.driver = Driver(store, settings)
        self.tracker = Tracker(store, settings)
        self.sender: Sender = sender or AppriseSender()
        self.board = Board(settings)
        self.changed = asyncio.Event()
        self.send_worker = Worker()
        self._scanned: datetime | None = None
        self._dirty = False
        self._tasks: list[asyncio.Task[None]] = []

    async def accept_generic(self, events: Sequence[LiveEvent]) -> int:
        """Store events durably, then show them on the board; returns how many were new."""
        items = [Incoming(WEBHOOK, e.to_json(), e.call_id) for e in events]
        await self.commit.put_many(items)
        for item in items:
            self.board.apply_generic(json.loads(item.payload))
        self.changed.set()
        return len(items)

    async def accept_ami(self, headers: dict[str, str]) -> None:
        from callscope.live.ami_text import event_json

        key = headers.get("Linkedid") or headers.get("DestLinkedid")
        await self.commit.put(Incoming(AMI, event_json(headers), key))
        self.board.apply_ami(headers)
        self.changed.set()

    def cycle(
        self, now: datetime | None = None, *, flush: bool = False, send: bool = True
    ) -> dict[str, int]:
        """One pass of the background work (synchronous; run on the store's worker thread):
        move finished calls, decide notifications, and (`send`) deliver what is due."""
        now = now or utcnow()
        moved = self.driver.step(flush=flush)
        counts = {"events": moved.events, "calls": len(moved.calls)}
        self._dirty = self._dirty or self.tracker.touches_contacts(moved.calls)
        stale = self._scanned is None or now - self._scanned >= RESCAN
        due = self._scanned is None or now - self._scanned >= SCAN_GAP
        if (self._dirty and due) or stale or flush:
            # The missed-contact report is the expensive part: run it when a call that can
            # open or close a contact arrived (at most every SCAN_GAP, the calls of the gap
            # together), and now and then for the reminders that only time brings.
            self._dirty = False
            counts.update(self.tracker.scan(now))
            counts["alerts"] = self.tracker.alert_missed_share(now)
            self._scanned = now
        else:
            counts["alerts"] = 0
        for queue in self.board.snapshot().get("queues", []):
            counts["alerts"] += self.tracker.alert_queue_wait(
                queue["queue"], queue["longest_wait_s"], now
            )
        counts["sent"] = send_due(self.store, self.settings, self.sender, now) if send else 0
        return counts

    async def _loop(self) -> None:
        every = float(self.settings.live.assemble_every_s)
        while True:
            await self.worker.run(lambda: self.cycle(send=False))
            await asyncio.sleep(every)

    async def _send_loop(self) -> None:
        """Delivery runs on its own thread and connection: a slow channel never holds up the
        intake's acknowledgements or the assembly."""
        own = Store(ibis=self.store.ibis, con=self.store.con.cursor(), path=self.store.path)
        every = float(self.settings.live.assemble_every_s)
        while True:
            await self.send_worker.run(lambda: send_due(own, self.settings, self.sender, utcnow()))
            await asyncio.sleep(every)

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._loop()),
                asyncio.create_task(self._send_loop()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.close()

    def close(self) -> None:
        """Stop the worker threads (after `stop`, or in tests that drive `cycle` by hand)."""
        for worker in (self.intake_worker, self.worker, self.send_worker):
            worker.close()
