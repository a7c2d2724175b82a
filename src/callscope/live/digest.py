"""Daily and weekly digests: yesterday's (or last week's) totals, missed share, the top missers
and callbacks within the norm, as an HTML e-mail and as a short text to any Apprise channel.

The figures are the `summary` and `agents` reports - the numbers the dashboard shows for the
same days - so a digest can never disagree with the screen. Sending goes through the outbox
under a key per period and channel: `digest --send` run twice the same morning sends once.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from callscope.live.outbox import EMAIL, Sender, enqueue, send_due
from callscope.metrics import MetricFilter, agents, summary
from callscope.settings import Settings
from callscope.store import Store


@dataclass
class Digest:
    kind: str  # daily | weekly
    first: date
    last: date
    totals: dict[str, Any]
    missers: list[dict[str, Any]]

    @property
    def title(self) -> str:
        span = f"{self.first}" if self.first == self.last else f"{self.first} - {self.last}"
        return f"callscope {self.kind} digest, {span}"

    def text(self) -> str:
        t = self.totals
        share = t.get("missed_share")
        lines = [
            f"Inbound calls: {t.get('offered', 0)}, answered {t.get('answered', 0)}, "
            f"missed {t.get('missed', 0)}"
            + (f" ({share:.0%})" if isinstance(share, float) else ""),
            f"Missed contacts: {t.get('missed_contacts', 0)}; called back "
            f"{t.get('called_back', 0)}, within the norm {t.get('called_back_within_sla', 0)}; "
            f"still open {t.get('open_contacts', 0)}",
        ]
        if self.missers:
            lines.append("Top missers:")
            lines += [
                f"  {i}. {m['name']}: {m['rang_no_answer']} of {m['offered']} rings missed"
                for i, m in enumerate(self.missers, 1)
            ]
        return "\n".join(lines)

    def html(self) -> str:
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(str(m['name']))}</td>"
            f"<td>{m['rang_no_answer']}</td><td>{m['offered']}</td></tr>"
            for i, m in enumerate(self.missers, 1)
        )
        body = "".join(f"<p>{html.escape(line)}</p>" for line in self.text().splitlines()[:2])
        table = (
            "<table border='1' cellpadding='4'><tr><th>#</th><th>agent</th>"
            f"<th>missed rings</th><th>offered</th></tr>{rows}</table>"
            if rows
            else ""
        )
        return f"<html><body><h2>{html.escape(self.title)}</h2>{body}{table}</body></html>"


def build_digest(store: Store, settings: Settings, kind: str, today: date) -> Digest:
    last = today - timedelta(days=1)
    first = last if kind == "daily" else last - timedelta(days=6)
    flt = MetricFilter(date_from=first, date_to=last)
    totals = summary(store, flt, settings).rows
    ranked = sorted(
        (
            r
            for r in agents(store, flt, settings).rows
            if r.get("kind", "agent") == "agent" and r.get("rang_no_answer")
        ),
        key=lambda r: (-int(r["rang_no_answer"]), -float(r.get("miss_rate") or 0), r["agent"]),
    )[: settings.live.notify.digest_top_n]
    missers = [
        {
            "name": r.get("agent_name") or r["agent"],
            "rang_no_answer": r["rang_no_answer"],
            "offered": r["offered"],
        }
        for r in ranked
    ]
    return Digest(kind, first, last, totals[0] if totals else {}, missers)


def send_digest(
    store: Store, settings: Settings, sender: Sender, kind: str, today: date, now: datetime
) -> Digest:
    """Queue the digest as an HTML e-mail (when `notify.email_to` is set) and as text for the
    `digest` route (else `supervisor`), once per period, then send what is due."""
    digest = build_digest(store, settings, kind, today)
    routes = settings.live.notify.routes
    key = f"digest:{kind}:{digest.first}:{digest.last}"
    if settings.live.notify.email_to:
        enqueue(store, settings.tenant, f"{key}:email", "digest", EMAIL, digest.title,
                digest.html(), now)  # fmt: skip
    channel = "digest" if "digest" in routes else "supervisor"
    if channel in routes:
        enqueue(store, settings.tenant, f"{key}:{channel}", "digest", channel, digest.title,
                digest.text(), now)  # fmt: skip
    send_due(store, settings, sender, now)
    return digest
