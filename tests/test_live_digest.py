"""Digests: yesterday's figures of the asterisk-real day arrive as an HTML e-mail in a real
SMTP server (aiosmtpd) and as text at a webhook receiver, once however often `--send` runs."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import date, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from callscope.importer import import_files
from callscope.live.digest import build_digest, send_digest
from callscope.live.outbox import FakeSender
from callscope.settings import Settings
from callscope.store import open_store

DAY_AFTER = date(2026, 11, 23)  # the sample's calls are on 2026-11-22, Moscow time


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_daily_digest_is_mailed_and_notified_once(
    shared: Path, real_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    settings = real_settings.model_copy(deep=True)
    settings.live.notify.email_to = ["head.of.sales@example.com"]
    settings.live.notify.smtp_host, settings.live.notify.smtp_port = "127.0.0.1", port
    settings.live.notify.routes = {"supervisor": ["json://example.invalid/boss"]}
    sender = FakeSender()
    with open_store(None) as store:
        import_files(
            store, [shared / "pbx-samples" / "asterisk-real" / "cel.csv"], settings=settings
        )
        now = datetime(2026, 11, 23, 6, 0)
        digest = send_digest(store, settings, sender, "daily", DAY_AFTER, now)
        send_digest(store, settings, sender, "daily", DAY_AFTER, now)  # a second cron run
    assert (digest.totals["offered"], digest.totals["missed"]) == (22, 11)
    assert digest.totals["called_back_within_sla"] == 3
    assert digest.missers[0]["name"] == "Anna Petrova"
    assert len(box.messages) == 1 and len(sender.sent) == 1
    mail = box.messages[0]
    assert mail["Subject"] == "callscope daily digest, 2026-11-22"
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    assert "Anna Petrova" in html.get_payload(decode=True).decode()
    assert "missed 11 (50%)" in sender.sent[0][2]


def test_weekly_digest_covers_seven_days(shared: Path, real_settings: Settings) -> None:
    with open_store(None) as store:
        import_files(
            store, [shared / "pbx-samples" / "asterisk-real" / "cel.csv"], settings=real_settings
        )
        weekly = build_digest(store, real_settings, "weekly", date(2026, 11, 28))
    assert (weekly.first, weekly.last) == (date(2026, 11, 21), date(2026, 11, 27))
    assert weekly.totals["offered"] == 22
