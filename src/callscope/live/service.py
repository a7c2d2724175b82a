"""The live service: one object owns the store's live work (inbox, driver, tracker, outbox,
board) so the HTTP router, the AMI client and the CLI share it. `start()` runs the background
loops: move finished calls and decide notifications; deliver what is due.

Both loops are woken by what they wait for instead of polling: an event that can finish a call
(`call.ended`, an AMI Hangup, an agent event) wakes the assembly, a queued message wakes the
delivery. `live.assemble_every_s` is the shortest gap between two assemblies (events arriving
meanwhile are moved together) and the longest an idle loop sleeps (calls silent for
`live.call_timeout_s`, reminders, retries)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from callscope.importer import engine_settings
from callscope.live import signing
from callscope.live.board import Board, restore_board
from callscope.live.driver import AMI, WEBHOOK, Driver
from callscope.live.events import LiveEvent, stored_json
from callscope.live.inbox import GroupCommit, Inbox, Incoming, Worker
from callscope.live.notifier import Tracker
from callscope.live.outbox import AppriseSender, Sender, send_due
from callscope.settings import Settings
from callscope.store import Store

# The missed-contact report over the whole horizon: at start, then now and then for contacts
# that did not arrive through this intake (a batch import into the same store).
RESCAN = timedelta(seconds=60)
IDLE_S = 1.0  # an idle loop still looks this often (timeouts, reminders, retries)
CUTS = 2  # how often missed calls may cut one cycle's bulk pass short (`driver.Cut`)
# Events after which a call may be over, or that are moved at once (no call).
_WAKES_GENERIC = frozenset({"call.ended", "agent.state"})
_WAKES_AMI = frozenset({"Hangup", "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved"})


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value


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
        self.commit: GroupCommit[Incoming] = GroupCommit(
            lambda events: self.intake_worker.run(functools.partial(self.inbox.write, events))
        )
        self.driver = Driver(store, settings)
        self.tracker = Tracker(store, settings)
        self.sender: Sender = sender or AppriseSender()
        # Before any request is served: the board as the store left it (agents' last states,
        # calls still open in the inbox), so a restart does not show everyone offline.
        self.board = Board(settings)
        restore_board(self.board, store, settings.tenant, utcnow())
        self.changed = asyncio.Event()
        self.send_worker = Worker()
        self._scanned: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._assemble = asyncio.Event()
        self._urgent = asyncio.Event()  # a call ended unanswered: its early pass is due
        self._woken = 0  # how many times `_urgent` was set
        self._graces = 0  # calls ended unanswered whose grace is not over (`_wake_early` due)
        self._heard = time.monotonic()  # when the last event came in
        self._unmerged = 0  # checkpoints since the last one that merged row groups
        self._deliver = asyncio.Event()
        self.secrets = signing.Secrets(settings)  # webhook secrets by tenant
        self._running: asyncio.AbstractEventLoop | None = None

    async def accept_generic(self, events: Sequence[LiveEvent]) -> int:
        """Store events durably, then show them on the board; returns how many there were."""
        records = [e.to_record() for e in events]
        await self.accept_records(records, [stored_json(r) for r in records])
        return len(records)

    async def accept_stored(self, texts: list[str]) -> None:
        """Events the intake process (`live.front`) checked, in their stored form."""
        await self.accept_records([json.loads(t) for t in texts], texts)

    async def accept_records(self, records: list[dict[str, Any]], texts: list[str]) -> None:
        """Store events (records and their stored JSON) durably, then show them on the board."""
        pairs = zip(records, texts, strict=True)
        items = [Incoming(WEBHOOK, text, r.get("call_id")) for r, text in pairs]
        self._heard = time.monotonic()
        await self.commit.put_many(items)
        unanswered = False
        for record in records:
            if record["type"] == "call.ended" and not self.board.answered(record.get("call_id")):
                unanswered = True
            self.board.apply_generic(record)
        if any(r["type"] in _WAKES_GENERIC for r in records):
            self._assemble.set()
        if unanswered and self._running is not None:
            # Its early pass is due once the late-answer grace is over, even in the pause
            # after a pass (a little later than the grace: both clocks must agree it is over).
            grace = float(self.settings.live.late_answer_grace_s)
            self._graces += 1
            self._running.call_later(grace + 0.01 if grace else 0, self._wake_early)
        self.changed.set()

    async def accept_ami(self, headers: dict[str, str]) -> None:
        from callscope.live.ami_text import event_json

        key = headers.get("Linkedid") or headers.get("DestLinkedid")
        self._heard = time.monotonic()
        await self.commit.put(Incoming(AMI, event_json(headers), key))
        self.board.apply_ami(headers)
        if key is None or headers.get("Event") in _WAKES_AMI:
            self._assemble.set()
        self.changed.set()

    def early(self, now: datetime | None = None, *, hold: bool = False) -> dict[str, int]:
        """Move only the finished calls nobody talked in and tell their customers: the one
        kind of call someone waits to hear about, a few statements' work next to a pass over
        the bulk of answered calls. `hold`: leave calls ended within the late-answer grace."""
        now = now or utcnow()
        counts: dict[str, int] = {"events": 0, "calls": 0}
        hold_s = float(self.settings.live.late_answer_grace_s) if hold else 0.0
        # agent_states are rebuilt after the bulk pass or the pause (`_loop`, `cycle`): here
        # that rebuild would sit between the customer and the message.
        early = self.driver.step(first=True, hold_s=hold_s, agent_states=False)
        numbers = self.tracker.touched_numbers(early.calls)
        if numbers:  # (reminders are the full pass's: a missed call's pass only tells it)
            _add(counts, self.tracker.scan(now, numbers, follow_up=False))
            if counts["new"] and self._running is not None:
                self._running.call_soon_threadsafe(self._deliver.set)
        counts["events"] += early.events
        counts["calls"] += len(early.calls)
        return counts

    def _wake_early(self) -> None:
        self._graces = max(self._graces - 1, 0)
        self._woken += 1  # (read by `cycle` on the worker thread: did one come meanwhile?)
        self.driver.cut.interrupt()  # a bulk pass in flight gives way (`driver.Cut`)
        self._urgent.set()
        self._assemble.set()  # an idle loop waits for this one

    def cycle(
        self,
        now: datetime | None = None,
        *,
        flush: bool = False,
        send: bool = True,
        hold: bool = False,
        rescan: bool = True,
    ) -> dict[str, int]:
        """One pass of the background work (synchronous; run on the store's worker thread):
        move finished calls, decide notifications, and (`send`) deliver what is due. `hold`
        (the background loop): calls that ended unanswered wait `live.late_answer_grace_s`.
        `rescan=False` (the background loop) leaves the report over the whole horizon, once
        due, to `rescan()` (after the first pass, which always runs it)."""
        now = now or utcnow()
        counts: dict[str, int] = {"events": 0, "calls": 0, "alerts": 0}
        if not flush and self._scanned is not None:
            # Calls nobody talked in go first, and their customers are told before the bulk
            # of answered calls is assembled: under load that bulk took most of a second.
            # A call whose grace ran out during that early pass gets one of its own too: in
            # the bulk pass it waited for hundreds of answered calls (half of the slowest
            # notifications in bench/live.py). Twice at most, so the bulk always moves.
            for _ in range(3 if hold else 1):
                woken = self._woken
                _add(counts, self.early(now, hold=hold))
                if self._woken == woken:
                    break
        hold_s = float(self.settings.live.late_answer_grace_s) if hold else 0.0
        # The background loop rebuilds agent_states after this pass (`_loop`), so that a missed
        # call ended meanwhile goes first; a pass driven by hand rebuilds them at once.
        moved = self.driver.step(flush=flush, hold_s=hold_s, agent_states=not hold, cuttable=hold)
        for cuts in range(1, CUTS + 1):
            if not moved.cut:
                break
            # A call ended unanswered cut the bulk short (`_wake_early`): it goes first, then
            # the bulk again (uncut after CUTS: missed calls may come faster than bulk passes).
            _add(counts, self.early(now, hold=hold))
            more = self.driver.step(
                flush=flush, hold_s=hold_s, agent_states=not hold, cuttable=cuts < CUTS
            )
            moved.add(more)
        counts["events"] += moved.events
        counts["calls"] += len(moved.calls)
        if self._scanned is None or flush or (rescan and self.rescan_due(now)):
            _add(counts, self.rescan(now))
        else:
            # Only the customers of the calls just assembled can have a contact opened or
            # closed by them: the report is asked for those numbers alone.
            numbers = self.tracker.touched_numbers(moved.calls)
            _add(
                counts, self.tracker.scan(now, numbers) if numbers else self.tracker.follow_up(now)
            )
        if moved.calls or "new" in counts:
            counts["alerts"] += self.tracker.alert_missed_share(now)
        for queue in self.board.snapshot().get("queues", []):
            counts["alerts"] += self.tracker.alert_queue_wait(
                queue["queue"], queue["longest_wait_s"], now
            )
        counts["sent"] = send_due(self.store, self.settings, self.sender, now) if send else 0
        return counts

    def checkpoint_due(self, *, told: bool = False) -> bool:
        """The store's write-ahead log has passed `live.checkpoint_mb` and no call that ended
        unanswered is waiting for a pass or within its grace. `told`: right after a missed
        call's pass, when calls waiting do not hold it back once the log is half as large
        again: under a stream of missed calls there may be no quiet moment before DuckDB's
        own threshold (16 MiB), which puts the checkpoint inside a pass. (On the event loop.)"""
        limit = float(self.settings.live.checkpoint_mb) * 2**20
        size = self.store.wal_bytes()
        if limit <= 0 or size < limit:
            return False
        return not self._missed_waiting() or (told and size >= limit * 1.5)

    def _missed_waiting(self) -> bool:
        """A call that ended unanswered waits for its pass or is within its grace."""
        return self._urgent.is_set() or self._graces > 0

    def checkpoint(self, *, merge: bool = False) -> bool:
        """Write the store's WAL into its file (DuckDB's CHECKPOINT), between passes.

        Left to DuckDB, the checkpoint runs inside whichever commit takes the WAL past its
        threshold (16 MiB), most often a bulk pass's, which a missed call cannot cut short
        then: in a traced 300-s bench/live.py run every notification that waited over 0.3 s
        for the store thread waited for such a commit (0.4-1.4 s for pass and checkpoint,
        every ~23 s). It cannot be interrupted and holds up every transaction of the store
        while it runs, so it is done on its own: when nothing is known to be waiting, or
        right after a missed call's pass (`checkpoint_due`). False: another connection held
        open a transaction older than the last write (DuckDB: "other write transactions
        active"); the next pass tries again (FORCE CHECKPOINT would wait for it and keep every
        other transaction from starting meanwhile).

        Each checkpoint leaves the rows written since the last one in row groups of their
        own. DuckDB merges adjacent ones in its checkpoints (its vacuum), and every few
        checkpoints such a merge rewrites up to two full row groups of a table: 0.8-1.5 s
        instead of 0.2 s under bench/live.py's load, the slowest waits of a 600-s run. So
        they are merged only when `merge` (`merge_due`: the intake has gone quiet) or when
        `live.merge_idle_s` is 0."""
        merge = merge or not float(self.settings.live.merge_idle_s)
        limits = {} if merge else {"max_vacuum_tasks": "0"}
        try:
            with engine_settings(self.store.con, **limits):
                self.store.con.execute("CHECKPOINT")
        except duckdb.TransactionException:
            return False
        self._unmerged = 0 if merge else self._unmerged + 1
        return True

    def merge_due(self) -> bool:
        """Checkpoints left row groups unmerged, no event has come for `live.merge_idle_s`,
        no call that ended unanswered is waiting, and something was written since the last
        checkpoint (a checkpoint with nothing to write merges nothing). Unmerged, the row
        groups cost no scan time, but the small ones (a few contacts per checkpoint) take a
        block of the file each. (On the event loop.)"""
        idle = float(self.settings.live.merge_idle_s)
        return (
            self._unmerged > 0
            and idle > 0
            and time.monotonic() - self._heard >= idle
            and not self._missed_waiting()
            and self.store.wal_bytes() > 0
        )

    def rescan_due(self, now: datetime | None = None, *, late: int = 1) -> bool:
        """The whole-horizon report is due (`late`: overdue by that many periods)."""
        return self._scanned is None or (now or utcnow()) - self._scanned >= RESCAN * late

    def rescan(self, now: datetime | None = None) -> dict[str, int]:
        """The missed-contact report over the whole horizon (contacts that came in some other
        way: a batch import into the same store), and the reminders it makes due."""
        now = now or utcnow()
        counts = self.tracker.scan(now)
        if self._scanned is None:
            self.tracker.warm(now)
        self._scanned = now
        return counts

    async def _loop(self) -> None:
        gap = float(self.settings.live.assemble_every_s)
        # The first pass (the report over the whole horizon, compiling the metric queries)
        # runs at once: waiting for the first wake left it to the first missed call, which
        # then took 1.7 s (bench/live.py).
        self._assemble.set()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._assemble.wait(), timeout=max(gap, IDLE_S))
            self._assemble.clear()
            self._urgent.clear()
            counts = await self.worker.run(lambda: self.cycle(send=False, hold=True, rescan=False))
            queued = ("new", "reminders", "escalations", "alerts")
            if any(counts.get(k) for k in queued):
                self._deliver.set()
            # A pause after every pass, even under load: back-to-back passes took the GIL from
            # the HTTP intake (2,000 -> 1,500 events/s in bench/live.py) and saved little.
            # A call that ended unanswered (during the pass or the pause) cuts in with its
            # early pass alone: it waited a whole pause and pass before.
            if not self._urgent.is_set():
                await self.worker.run(self.driver.rebuild_agent_states)
            if self.checkpoint_due():
                await self.worker.run(self.checkpoint)
            elif self.merge_due():
                await self.worker.run(functools.partial(self.checkpoint, merge=True))
            # The whole-horizon report (once a minute) runs between passes, not inside one a
            # missed call may be waiting for; a call ended unanswered meanwhile goes first
            # (unless missed calls keep coming so fast that it would never run).
            if self.rescan_due(late=1 if not self._urgent.is_set() else 2):
                counts = await self.worker.run(self.rescan)
                if any(counts.get(k) for k in queued):
                    self._deliver.set()
            until = asyncio.get_running_loop().time() + gap
            while (left := until - asyncio.get_running_loop().time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), timeout=left)
                if not self._urgent.is_set():
                    break
                self._urgent.clear()
                early = await self.worker.run(lambda: self.early(hold=True))
                if early.get("new"):
                    self._deliver.set()
                if self.checkpoint_due(told=True):
                    await self.worker.run(self.checkpoint)
            await self.worker.run(self.driver.rebuild_agent_states)

    async def _send_loop(self) -> None:
        """Delivery runs on its own thread and connection: a slow channel never holds up the
        intake's acknowledgements or the assembly."""
        own = Store(ibis=self.store.ibis, con=self.store.con.cursor(), path=self.store.path)
        every = max(float(self.settings.live.assemble_every_s), IDLE_S)
        warm = getattr(self.sender, "warm", None)
        if warm is not None:  # the first message would otherwise pay for loading Apprise
            await self.send_worker.run(warm)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._deliver.wait(), timeout=every)
            self._deliver.clear()
            await self.send_worker.run(lambda: send_due(own, self.settings, self.sender, utcnow()))

    def start(self) -> None:
        if not self._tasks:
            self._running = asyncio.get_running_loop()
            # The intake thread needs the GIL for a moment per query; with the default 5 ms
            # switch interval each of those moments waited behind the HTTP thread, and a
            # commit took 15 ms instead of 3 (bench/live.py).
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
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
