"""The durable outbox: a notification is a row before it is a message.

Whatever decides to notify (a new missed contact, a reminder, an alert, a digest) inserts a row
under a deterministic `message_key` (`missed:<contact>:notify`, ...): deciding twice - after a
restart, on a re-assembled call - inserts nothing. The sender takes due rows, sends them, and
commits `sent_at` per row; a failure is retried with a doubling delay until `max_attempts`, then
the row is kept as dead (`dead_at`) for a person to look at. A crash between a send and its
commit is the one moment a message can leave twice; the message key travels with each message
(Apprise title suffix for people, JSON field for webhooks) so a receiver can drop the copy.

Channels are route names (`101`, `sales`, `supervisor`, `default`) resolved to Apprise URLs
only at send time, so the store never holds a token.
"""

from __future__ import annotations

import os
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import quote

from callscope.settings import Settings
from callscope.store import Store

EMAIL = "email"  # the channel of HTML e-mails to notify.email_to (digests)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Sender(Protocol):
    """One-method transport: deliver `title`/`body` to the Apprise URLs; raise on failure."""

    def send(self, urls: list[str], title: str, body: str, key: str) -> None: ...


class AppriseSender:
    def warm(self) -> None:
        """Load Apprise and its plugins (most of a second) before the first message."""
        import apprise

        apprise.Apprise().add("json://127.0.0.1/warm")

    def send(self, urls: list[str], title: str, body: str, key: str) -> None:
        import apprise

        client = apprise.Apprise()
        for url in urls:
            url = with_key(url, key)
            if not client.add(url):
                raise RuntimeError(f"not an Apprise URL: {_redact(url)}")
        if not client.notify(body=body, title=title):
            raise RuntimeError("Apprise could not deliver to every URL")


@dataclass
class FakeSender:
    """Records messages instead of sending them (tests, `--dry-run`); `fail` times first."""

    fail: int = 0

    def __post_init__(self) -> None:
        self.sent: list[tuple[list[str], str, str, str]] = []

    def send(self, urls: list[str], title: str, body: str, key: str) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("fake failure")
        self.sent.append((urls, title, body, key))


_HTTP_SCHEMES = ("json://", "jsons://", "form://", "forms://", "xml://", "xmls://")


def with_key(url: str, key: str) -> str:
    """Apprise's generic webhooks take `+Header=value` arguments: every message carries its
    outbox key as `Idempotency-Key`, so a receiver drops the copy a crash may resend."""
    if not url.startswith(_HTTP_SCHEMES):
        return url
    return url + ("&" if "?" in url else "?") + "+Idempotency-Key=" + quote(key, safe="")


def _redact(url: str) -> str:
    return url.split("://", 1)[0] + "://…"


def send_email(settings: Settings, title: str, html_body: str) -> None:
    """One HTML e-mail to `notify.email_to` (the outbox's `email` channel)."""
    notify = settings.live.notify
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = notify.email_from
    message["To"] = ", ".join(notify.email_to)
    message.set_content("This digest is an HTML message.")
    message.add_alternative(html_body, subtype="html")
    with smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=30) as smtp:
        password = os.environ.get(notify.smtp_password_env)
        if notify.smtp_user and password:
            smtp.starttls()
            smtp.login(notify.smtp_user, password)
        smtp.send_message(message)


def resolve_urls(settings: Settings, channel: str) -> list[str]:
    routes = settings.live.notify.routes
    urls = routes.get(channel) or routes.get("default") or []
    return [_VAR.sub(lambda m: os.environ.get(m.group(1), ""), u) for u in urls]


def enqueue(
    store: Store,
    tenant: str,
    key: str,
    kind: str,
    channel: str,
    title: str,
    body: str,
    due: datetime,
    subject: str | None = None,
) -> bool:
    """Add a message unless one with this key exists; True when added."""
    added = store.con.execute(
        "INSERT INTO notify_outbox (message_key, tenant, kind, subject_key, channel, title, body,"
        " created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)"
        " ON CONFLICT DO NOTHING RETURNING message_key",
        [key, tenant, kind, subject, channel, title, body, due],
    ).fetchall()
    return bool(added)


def send_due(store: Store, settings: Settings, sender: Sender, now: datetime) -> int:
    """Send every due message; returns how many were sent."""
    notify = settings.live.notify
    con = store.con
    rows = con.execute(
        "SELECT message_key, channel, title, body, attempts FROM notify_outbox"
        " WHERE sent_at IS NULL AND dead_at IS NULL AND due_at <= ? ORDER BY due_at, message_key",
        [now],
    ).fetchall()
    sent = 0
    for key, channel, title, body, attempts in rows:
        urls = resolve_urls(settings, channel)
        try:
            if channel == EMAIL:
                send_email(settings, title, body)
                urls = ["email"]
            elif not urls:
                raise RuntimeError(f"no notify.routes entry for {channel!r} and no default")
            else:
                sender.send(urls, title, body, key)
        except Exception as exc:
            tries = int(attempts) + 1
            delay = timedelta(seconds=notify.retry_base_s * 2 ** (tries - 1))
            con.execute(
                "UPDATE notify_outbox SET attempts = ?, last_error = ?, due_at = ?,"
                " dead_at = CASE WHEN ? >= ? THEN ?::TIMESTAMP END WHERE message_key = ?",
                [tries, str(exc)[:500], now + delay, tries, notify.max_attempts, now, key],
            )
            continue
        con.execute(
            "UPDATE notify_outbox SET attempts = attempts + 1, sent_at = ? WHERE message_key = ?",
            [now, key],
        )
        sent += 1
    return sent
