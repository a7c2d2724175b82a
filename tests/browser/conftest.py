"""A live server on the simulated company and Debian's chromium driven by Playwright.

The browser is the system's (`apt-get install chromium`): Playwright never downloads one.
Screenshots and downloads go to tests/browser/artefacts/ (git-ignored, kept by CI).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from browser.company import build_company
from callscope.settings import Settings
from callscope.store import open_store
from callscope.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def artefacts() -> Path:
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The dashboard of `settings` (its `db`) on a free port, for as long as the block runs."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the web server did not start in 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    db = tmp_path_factory.mktemp("web") / "company.duckdb"
    with open_store(db) as store:
        settings = build_company(store)
    settings = settings.model_copy(update={"db": db})
    with serving(settings) as base:
        yield base, settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    # module scope: Playwright's sync API keeps an event loop running in this thread while it
    # is open, which would break asyncio.run() in the tests collected after this folder
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
