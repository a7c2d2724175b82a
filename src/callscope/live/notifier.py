"""The missed-call tracker: new missed contacts notify their manager, open ones get a reminder
and then an escalation, resolved ones close; threshold alerts watch the last hour.

Which contacts are missed and which are resolved is `callscope.metrics.missed` - the report the
CLI and dashboard show - never a second copy of the rule. The tracker only remembers what it has
already said (`notify_contacts`) and queues messages in the outbox under deterministic keys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis

from callscope.live.outbox import enqueue
from callscope.metrics import missed
from callscope.metrics.report import MetricFilter
from callscope.metrics.scope import answered
from callscope.settings import Settings, parse_span
from callscope.store import Store, transaction


def _naive_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value  # type: ignore[no-any-return]


def quiet_until(settings: Settings, at: datetime) -> datetime:
    """`at` (naive UTC) moved to the end of the quiet hours when it falls inside them."""
    span = settings.live.notify.quiet_hours
    if not span:
        return at
    start, end = (s.strip() for s in span.split("-"))
    zone = ZoneInfo(settings.timezone)
    local = at.replace(tzinfo=UTC).astimezone(zone)
    minute = local.hour * 60 + local.minute
    s_min = int(start[:2]) * 60 + int(start[3:5])
    e_min = int(end[:2]) * 60 + int(end[3:5])
    inside = s_min <= minute < e_min if s_min < e_min else minute >= s_min or minute < e_min
    if not inside:
        return at
    day = local.date() if minute < e_min else local.date() + timedelta(days=1)
    wake = datetime.combine(day, time(e_min // 60, e_min % 60), zone)
    return wake.astimezone(UTC).replace(tzinfo=None)


class Tracker:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        calls = store.ibis.table("calls")
        # The answered rule as a column, so that the calls of a pass are read once, by their
        # ids (an `IN (unanswered calls)` subquery scanned every call of the store again).
        self._calls = ibis.to_sql(
            calls.select(
                "tenant", "call_id", "external_number", "direction",
                unanswered=~answered(calls, settings),
            ),
            dialect="duckdb",
        )  # fmt: skip
        span = settings.live.notify.quiet_hours
        if span:  # may run over midnight (21:00-08:00): check each end on its own
            start, _, end = span.partition("-")
            parse_span(f"{start.strip()}-24:00")
            parse_span(f"00:00-{end.strip()}")

    def _route(self, agent: str | None, number: str) -> tuple[str, str | None]:
        notify = self.settings.live.notify
        owner = notify.owners.get(number) or agent
        team = self.settings.agents[owner].team if owner in self.settings.agents else None
        for key in (owner, team):
            if key and key in notify.routes:
                return key, team
        return "default", team

    def touched_numbers(self, call_ids: list[str]) -> list[str]:
        """Customer numbers whose contacts calls just assembled can open or close: the numbers
        of inbound calls the metric layer does not count as answered (`metrics.scope.answered`,
        compiled once) and of any call with the number of a contact still open. Answered calls
        from other numbers are most of the traffic and can change no contact."""
        if not call_ids:
            return []
        rows = self.store.con.execute(
            f"""
            WITH ids AS (SELECT unnest($2::VARCHAR[]) AS id),
            keys AS (SELECT id FROM ids
                     UNION SELECT call_key FROM key_links
                           WHERE tenant = $1 AND alias_key IN (SELECT id FROM ids))
            SELECT DISTINCT c.external_number FROM ({self._calls}) c
            WHERE c.tenant = $1 AND c.external_number IS NOT NULL
              AND c.call_id IN (SELECT id FROM keys)
              AND ((c.direction = 'inbound' AND c.unanswered)
                   OR c.external_number IN (SELECT external_number FROM notify_contacts
                                            WHERE tenant = $1 AND state = 'open'))
            ORDER BY 1
            """,
            [self.settings.tenant, call_ids],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def warm(self, now: datetime) -> None:
        """Ask the report once for a number nobody has: the metric layer compiles a query
        per shape of filter, and the first missed call should not wait for that."""
        today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(self.settings.timezone)).date()
        missed(self.store, MetricFilter(date_from=today, date_to=today, numbers=("+0",)),
               self.settings)  # fmt: skip

    def scan(
        self, now: datetime, numbers: list[str] | None = None, *, follow_up: bool = True
    ) -> dict[str, int]:
        """Compare the missed-contact report of the last horizon (of `numbers` only, when
        given) with what was said so far; then (`follow_up`) queue the reminders due."""
        s = self.settings
        zone = ZoneInfo(s.timezone)
        today = now.replace(tzinfo=UTC).astimezone(zone).date()
        first = today - timedelta(days=int(s.metrics.resolution_horizon_days) + 1)
        flt = MetricFilter(date_from=first, date_to=today, numbers=tuple(numbers or ()))
        report = missed(self.store, flt, s)
        keys = [str(row["contact_id"]) for row in report.rows]
        said = {
            r[0]: r[1]
            for r in self.store.con.execute(
                "SELECT contact_key, state FROM notify_contacts"
                " WHERE tenant = ? AND list_contains(?, contact_key)",
                [s.tenant, keys],
            ).fetchall()
        }
        counts = {"new": 0, "closed": 0, "reminders": 0, "escalations": 0}
        for row in report.rows:
            key = str(row["contact_id"])
            status = row["status"]
            number = str(row["external_number"])
            resolved = status in ("called_back", "recalled_by_customer")
            if key not in said and not resolved:
                self._open(row, key, number, now)
                counts["new"] += 1
            elif key not in said:
                continue
            elif said.get(key) == "open" and resolved:
                self.store.con.execute(
                    "UPDATE notify_contacts SET state = 'closed', resolution = ?, closed_at = ?"
                    " WHERE tenant = ? AND contact_key = ?",
                    [status, now, s.tenant, key],
                )
                counts["closed"] += 1
        if follow_up:
            counts.update(self.follow_up(now))
        return counts

    def _open(self, row: dict[str, Any], key: str, number: str, now: datetime) -> None:
        s = self.settings
        first = _naive_utc(row["first_missed_at"])
        last = _naive_utc(row.get("last_missed_at") or row["first_missed_at"])
        deadline = first + timedelta(minutes=s.metrics.callback_sla_min)
        channel, team = self._route(row.get("agent"), number)
        # A contact older than max_age_min when first seen (history imported in batch, a long
        # outage) is remembered without a message: nobody wants yesterday's alarms at once.
        stale = now - last > timedelta(minutes=s.live.notify.max_age_min)
        # The contact and its first message are written in one transaction: a crash between
        # them would leave a contact marked as told whose message never reaches the outbox.
        con = self.store.con
        with transaction(con):
            con.execute(
                "INSERT INTO notify_contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
                " ON CONFLICT DO NOTHING",
                [s.tenant, key, number, first, int(row["attempts"]), channel, team, deadline,
                 "stale" if stale else "open"],
            )  # fmt: skip
            if not stale:
                local = deadline.replace(tzinfo=UTC).astimezone(ZoneInfo(s.timezone))
                enqueue(
                    self.store, s.tenant, f"missed:{key}:notify", "missed", channel,
                    f"Missed call from {number}",
                    f"You missed a call from {number} ({row['attempts']} attempt(s)). "
                    f"Call back by {local:%H:%M} ({s.metrics.callback_sla_min:g} min).",
                    quiet_until(s, now), key,
                )  # fmt: skip

    def follow_up(self, now: datetime) -> dict[str, int]:
        """Reminders and escalations that time has made due: one query over the open contacts
        that still lack them, so it is cheap enough for every pass."""
        s, notify = self.settings, self.settings.live.notify
        remind_at = now - timedelta(minutes=notify.reminder_after_min)
        escalate_at = now - timedelta(minutes=notify.escalate_after_min)
        open_rows = self.store.con.execute(
            """
            SELECT c.contact_key, c.external_number, c.first_missed_at, c.owner,
                   c.first_missed_at <= $3 AND r.message_key IS NULL,
                   c.first_missed_at <= $4 AND e.message_key IS NULL
            FROM notify_contacts c
            LEFT JOIN notify_outbox r ON r.message_key = 'missed:' || c.contact_key || ':remind'
            LEFT JOIN notify_outbox e
                   ON e.message_key = 'missed:' || c.contact_key || ':escalate'
            WHERE c.tenant = $1 AND c.state = 'open' AND c.first_missed_at <= $2
              AND (r.message_key IS NULL OR e.message_key IS NULL)
            """,
            [s.tenant, max(remind_at, escalate_at), remind_at, escalate_at],
        ).fetchall()
        counts = {"reminders": 0, "escalations": 0}
        for key, number, first, owner, remind, escalate in open_rows:
            age = now - first
            if remind and enqueue(
                self.store, s.tenant, f"missed:{key}:remind", "reminder", owner,
                f"Reminder: call back {number}",
                f"{number} has waited {age.total_seconds() // 60:.0f} min for a callback.",
                quiet_until(s, now), key,
            ):  # fmt: skip
                counts["reminders"] += 1
            if escalate and enqueue(
                self.store, s.tenant, f"missed:{key}:escalate", "escalation", "supervisor",
                f"Escalation: {number} not called back",
                f"{number} missed at {first:%H:%M} UTC, responsible: {owner}; "
                f"no callback for {age.total_seconds() // 60:.0f} min.",
                quiet_until(s, now), key,
            ):  # fmt: skip
                counts["escalations"] += 1
        return counts

    def alert_queue_wait(self, queue: str, wait_s: float, now: datetime) -> bool:
        """A caller has waited longer than `queue_wait_alert_s`: one alert per queue and minute."""
        limit = self.settings.live.notify.queue_wait_alert_s
        if limit is None or wait_s <= limit:
            return False
        return enqueue(
            self.store, self.settings.tenant, f"alert:wait:{queue}:{now:%Y%m%d%H%M}", "alert",
            "supervisor", f"Queue {queue}: a caller waits {wait_s:.0f} s",
            f"Longest wait in {queue} is {wait_s:.0f} s (limit {limit:g} s).", now, queue,
        )  # fmt: skip

    def alert_missed_share(self, now: datetime) -> int:
        """Teams whose missed share over the last hour is above `missed_share_alert_pct`."""
        notify = self.settings.live.notify
        if notify.missed_share_alert_pct is None:
            return 0
        # Each inbound call of the hour counts once for every team whose agents it rang.
        hour = self.store.con.execute(
            """
            SELECT c.call_id, c.outcome = 'missed', list(DISTINCT l.agent)
            FROM calls c LEFT JOIN legs l ON l.tenant = c.tenant AND l.call_id = c.call_id
            WHERE c.tenant = $1 AND c.direction = 'inbound'
              AND c.started_at >= $2::TIMESTAMP - INTERVAL 1 HOUR AND c.started_at <= $2
            GROUP BY ALL
            """,
            [self.settings.tenant, now],
        ).fetchall()
        per_team: dict[str, list[int]] = {}
        for _, was_missed, agents in hour:
            teams = {
                (self.settings.agents[a].team if a in self.settings.agents else None) or "default"
                for a in (agents or [None])
                if a is not None
            } or {"default"}
            for team in teams:
                tally = per_team.setdefault(team, [0, 0])
                tally[0] += 1
                tally[1] += int(bool(was_missed))
        fired = 0
        for team, (calls, miss) in sorted(per_team.items()):
            share = 100.0 * miss / calls if calls else 0.0
            if calls >= notify.alert_min_calls and share > notify.missed_share_alert_pct:
                fired += enqueue(
                    self.store, self.settings.tenant, f"alert:share:{team}:{now:%Y%m%d%H}",
                    "alert", team if team in notify.routes else "supervisor",
                    f"{team}: {share:.0f}% of calls missed in the last hour",
                    f"{miss} of {calls} inbound calls missed"
                    f" (limit {notify.missed_share_alert_pct:g}%).",
                    now, team,
                )  # fmt: skip
        return fired


def today_in(settings: Settings, now: datetime) -> date:
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(settings.timezone)).date()
