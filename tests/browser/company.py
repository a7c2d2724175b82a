"""The simulated company the web tests look at: a few weeks of a sales office, built by
`callscope.simulate` with a fixed seed and imported like a customer's own logs. Every customer
number in it is generated, so screenshots show no real person's number."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from callscope.importer import import_files
from callscope.settings import Settings
from callscope.simulate import load_profile, simulate
from callscope.simulate.compare import import_settings
from callscope.simulate.writers import ASTERISK, write_history
from callscope.store import Store
from callscope.web.access import add_user

PROFILE = "window-sales"
LAST_DAY = date(2026, 11, 22)  # a Sunday; the dashboard counts periods back from the data's end
PASSWORD = "correct horse battery"
USERS = {  # name: (role, agent)
    "owner": ("admin", None),
    "head": ("supervisor", None),
    "anna": ("agent", "101"),
}


def build_company(store: Store, days: int = 28, seed: int = 7) -> Settings:
    """Simulate, write Asterisk logs, import them into `store`; returns the company's settings."""
    spec = load_profile(PROFILE)
    trace = simulate(spec, LAST_DAY - timedelta(days=days - 1), days, seed)
    settings = import_settings(trace)
    with tempfile.TemporaryDirectory(prefix="callscope-web-") as work:
        files = [
            p
            for p in write_history(trace, spec, Path(work), ASTERISK)
            if p.name in ("Master.csv", "queue_log", "cel.csv")
        ]
        import_files(store, files, settings=settings)
    for name, (role, agent) in USERS.items():
        add_user(store, name, PASSWORD, role=role, tenant=settings.tenant, agent=agent)
    return settings


_built: dict[str, tuple[Store, Settings]] = {}


def shared_company() -> tuple[Store, Settings]:
    """One in-memory company per test process (the web API tests only read it)."""
    if "company" not in _built:
        from callscope.store import open_store

        store = open_store(None)
        settings = build_company(store)
        quiet = settings.web.model_copy(update={"prewarm": False})  # tests time their own calls
        _built["company"] = (store, settings.model_copy(update={"web": quiet}))
    return _built["company"]
