"""The store: canonical tables, raw records and rejects in one database (embedded DuckDB)."""

from callscope.store.connection import Store, open_store, transaction

__all__ = ["Store", "open_store", "transaction"]
