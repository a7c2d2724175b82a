"""The AMI client against a local server speaking the real protocol (banner, Login/Response,
events), replaying the recorded asterisk-real session: every event lands in the inbox, a dropped
connection is re-established with back-off, and the re-sent events change nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callscope.live.ami import ReplayServer, make_client
from callscope.live.ami_text import read_events
from callscope.live.inbox import TABLE as INBOX
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import open_store
from ground_truth import differences, load_truth
from live_support import run as run_async

SECRET = "replay-only"


def test_client_logs_in_reconnects_and_stores_every_event(
    shared: Path, real_settings: Settings
) -> None:
    folder = shared / "pbx-samples" / "asterisk-real"
    events = read_events(folder / "ami-events.txt")

    async def run() -> tuple[int, int, int]:
        server = ReplayServer(events, SECRET)
        server.drop_after = 1500
        await server.start()
        settings = real_settings.model_copy(deep=True)
        settings.live.ami_port = server.port
        with open_store(None) as store:
            service = LiveService(store, settings, FakeSender())
            client = make_client(settings, service.accept_ami, secret=SECRET)
            client.connect()
            for _ in range(400):
                await asyncio.sleep(0.05)
                row = store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone()
                if server.logins >= 2 and row and row[0] >= len(events):
                    break
            client.close()
            await server.stop()
            stored = int(store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone()[0])
            await service.worker.run(lambda: service.driver.step(flush=True))
            assert differences(store, load_truth(folder)) == []
            service.close()
            return server.logins, stored, client.attempts

    logins, stored, attempts = run_async(run)
    assert logins == 2 and attempts == 1  # one drop, one delayed reconnect
    assert stored == len({tuple(e.items()) for e in events})
