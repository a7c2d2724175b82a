"""New store and inbox files are written in the storage format of the oldest DuckDB supported,
whose checkpoints do not rewrite the key indexes whole: a checkpoint holds up every
transaction of the store while it runs, a live pass included."""

from __future__ import annotations

from pathlib import Path

import duckdb

from callscope.live.inbox import CATALOG
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.store.connection import STORAGE_VERSION


def _formats(store: Store) -> dict[str, str]:
    rows = store.con.execute("SELECT database_name, tags FROM duckdb_databases()").fetchall()
    return {str(name): str(tags.get("storage_version")) for name, tags in rows if tags}


def test_new_store_and_inbox_files_are_written_in_the_supported_format(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    with open_store(settings.db) as store:
        LiveService(store, settings, FakeSender()).close()  # attaches (creates) the inbox
        formats = _formats(store)
    assert formats == {"calls": f"{STORAGE_VERSION}+", CATALOG: f"{STORAGE_VERSION}+"}


def test_a_file_made_in_duckdbs_default_format_keeps_it_and_opens(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).execute("CREATE TABLE kept AS SELECT 1 AS x").close()
    settings = Settings.model_validate({"db": old})
    with open_store(old) as store:
        LiveService(store, settings, FakeSender()).close()
        formats = _formats(store)
        assert store.con.execute("SELECT x FROM kept").fetchall() == [(1,)]
        assert store.schema_version() > 0  # migrated as any store
    assert formats["old"] == "v1.0.0+" and formats[CATALOG] == f"{STORAGE_VERSION}+"
