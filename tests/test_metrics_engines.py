"""The metric layer on a second engine: every report over the scenario histories of
test_metrics_scenarios.py, computed by Spark (local mode, through Ibis' pyspark backend), must
equal DuckDB's answer field for field. The scenario tests pin DuckDB's answers to the
definitions, so equality here carries them over to Spark.

Run with `pytest -m spark` (needs pyspark and a JDK: `pip install 'pyspark>=3.5,<4.1'`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import test_metrics_scenarios as sc
from callscope.metrics import REPORTS, MetricFilter, call_colours
from callscope.settings import ScheduleSettings, Settings
from callscope.store import Store
from callscope.testing import import_text

pytestmark = [
    pytest.mark.spark,
    # pyspark 4.0 converts through pandas calls that pandas 3 deprecates
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

HISTORY = sc.EVERY_EDGE
TABLES = ("calls", "legs", "agent_states")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("callscope-metric-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


@pytest.fixture(scope="module")
def stores(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    """The scenario histories imported into DuckDB, and the same canonical rows in Spark
    (handed over as Arrow, so NULLs and timestamp types arrive as they are)."""
    from callscope.store import open_store

    settings = Settings(timezone="Europe/Moscow", region="RU")
    with open_store(None) as duck:
        import_text(duck, tmp_path_factory.mktemp("engines"), HISTORY, settings=settings)
        for name in TABLES:
            frame = spark._session.createDataFrame(duck.ibis.table(name).to_pyarrow())
            frame.createOrReplaceTempView(name)
        yield duck, Store(ibis=spark, con=None, path=None)  # type: ignore[arg-type]


def same(value: Any) -> Any:
    """Floats compared to 9 significant digits (engines sum in different orders)."""
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same(v) for v in value]
    return value


OFFICE = Settings(
    timezone="Europe/Moscow", region="RU", schedule=ScheduleSettings(**sc.OFFICE_HOURS)
)
CASES = [
    (name, {}, "around the clock")
    for name in REPORTS
] + [
    ("missed", {}, "office hours"),
    ("agents", {}, "office hours"),
    ("endpoints", {}, "office hours"),
    ("service", {"by": "hour"}, "around the clock"),
    ("service", {"by": "agent"}, "around the clock"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "options", "schedule"), CASES)
def test_spark_gives_duckdbs_figures(
    stores: tuple[Store, Store], name: str, options: dict[str, Any], schedule: str
) -> None:
    duck, spark = stores
    settings = OFFICE if schedule == "office hours" else Settings(timezone="Europe/Moscow")
    flt = MetricFilter()
    expected = same(REPORTS[name](duck, flt, settings, **options).as_json())
    assert same(REPORTS[name](spark, flt, settings, **options).as_json()) == expected


def test_spark_colours_the_call_log_like_duckdb(stores: tuple[Store, Store]) -> None:
    duck, spark = stores

    def colours(store: Store) -> list[dict[str, Any]]:
        t = call_colours(store, MetricFilter(), OFFICE)
        return sorted(t.to_pyarrow().to_pylist(), key=lambda r: r["call_id"])

    assert colours(spark) == colours(duck)


def test_history_covers_every_scenario(stores: tuple[Store, Store]) -> None:
    duck, _ = stores
    assert duck.ibis.table("calls").count().to_pyarrow().as_py() == 20
    assert Path(sc.__file__).name == "test_metrics_scenarios.py"
