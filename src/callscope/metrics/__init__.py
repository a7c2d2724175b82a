"""Metrics: pure functions from the canonical tables and a filter to result tables (Ibis)."""
