"""Time in the tenant's zone and working time: hours of day across a DST change, the calendar
of `[schedule]` (lunch, holidays, team rules), and paused time inside peak hours."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from callscope.errors import ConfigError
from callscope.metrics import REPORTS, MetricFilter
from callscope.metrics.schedule import Schedule
from callscope.metrics.scope import offsets
from callscope.settings import (
    AgentConfig,
    MetricsSettings,
    ScheduleSettings,
    Settings,
    load_settings,
)
from callscope.store import Store
from callscope.testing import import_text

# Kyiv moves from UTC+2 to UTC+3 at 03:00 local on Sunday 2026-03-29.
AROUND_DST = """
"","+380441110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-03-28 10:00:00","2026-03-28 10:00:05","2026-03-28 10:01:05",65,60,"ANSWERED","DOCUMENTATION","71.1","","","71.1",1
"","+380441110002","101","from-pstn","","PJSIP/trunk-02","PJSIP/101-02","Dial","PJSIP/101,30","2026-03-30 10:00:00","2026-03-30 10:00:05","2026-03-30 10:01:05",65,60,"ANSWERED","DOCUMENTATION","72.1","","","72.1",2
"""
# 2026-01-12 10:00 Moscow = epoch 1768201200. Anna pauses 10:30-11:30 (lunch).
PAUSES = """
1768203000|NONE|sales|Anna Petrova|PAUSE|lunch
1768206600|NONE|sales|Anna Petrova|UNPAUSE|
"""


def test_offsets_follow_the_zone_rules() -> None:
    table = offsets("Europe/Kyiv", datetime(2026, 3, 1), datetime(2026, 4, 1))
    assert table == [(datetime(2026, 3, 1), 7200), (datetime(2026, 3, 29, 1, 0), 10800)]
    assert offsets("Europe/Moscow", datetime(2026, 1, 1), datetime(2027, 1, 1)) == [
        (datetime(2026, 1, 1), 10800)
    ]


def test_hours_of_day_are_local_on_both_sides_of_a_dst_change(store: Store, tmp_path: Path) -> None:
    kyiv = Settings(timezone="Europe/Kyiv", region="UA")
    import_text(store, tmp_path, AROUND_DST, settings=kyiv)
    rows = REPORTS["service"](store, MetricFilter(), kyiv, by="hour").rows
    assert [(r["hour"], r["offered"]) for r in rows] == [(10, 2)]
    days = REPORTS["service"](store, MetricFilter(), kyiv, by="weekday").rows
    assert [r["weekday"] for r in days] == [1, 6]  # Monday, Saturday


def test_calendar_leaves_out_lunch_nights_weekends_and_holidays() -> None:
    cfg = ScheduleSettings(
        hours={"mon-fri": "09:00-18:00", "sat": "10:00-14:00"},
        lunch="13:00-14:00",
        holidays=[date(2026, 1, 13)],
        teams={"support": {"hours": {"mon-sun": "08:00-22:00"}, "lunch": ""}},
    )
    schedule = Schedule(cfg, "Europe/Moscow")
    assert schedule.tenant.spans(date(2026, 1, 12)) == [(540, 780), (840, 1080)]
    assert schedule.tenant.spans(date(2026, 1, 13)) == []  # holiday
    assert schedule.tenant.spans(date(2026, 1, 17)) == [(600, 780)]  # Saturday till lunch
    assert schedule.tenant.spans(date(2026, 1, 18)) == []  # Sunday
    assert schedule.teams["support"].spans(date(2026, 1, 18)) == [(480, 1320)]
    assert schedule.teams["support"].spans(date(2026, 1, 13)) == []  # the tenant's holiday too
    cal = schedule.calendar(datetime(2026, 1, 12, 6), datetime(2026, 1, 12, 7))
    rows = cal.filter(cal.cal_key == "*").order_by("cal_start").to_pyarrow().to_pylist()
    assert [(r["cal_start"], r["cal_end"]) for r in rows][:2] == [
        (datetime(2026, 1, 12, 6), datetime(2026, 1, 12, 10)),  # 09:00-13:00 Moscow in UTC
        (datetime(2026, 1, 12, 11), datetime(2026, 1, 12, 15)),
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[schedule]\nhours = { "mon-fri" = "9-18" }', "not a time span HH:MM-HH:MM"),
        ('[schedule]\nhours = { "fri-mon" = "09:00-18:00" }', "the range must run forward"),
        ('[schedule]\nhours = { monday = "09:00-18:00" }', "is not a day"),
        ('[schedule]\nlunch = "14:00-13:00"', "must start before it ends"),
        ('[metrics]\nsl_variant = "best"', "sl_variant"),
        ("[metrics]\npeak_hours = [25]", "hours of the day are 0..23"),
    ],
)
def test_wrong_schedule_and_metric_settings_name_the_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    config = tmp_path / "callscope.toml"
    config.write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_paused_time_and_paused_time_in_peak_hours(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        timezone="Europe/Moscow",
        agents={"101": AgentConfig(name="Anna Petrova", team="sales")},
        metrics=MetricsSettings(peak_hours=[11]),
    )
    import_text(store, tmp_path, PAUSES, settings=settings, name="queue_log")
    [anna, team] = REPORTS["agents"](store, MetricFilter(), settings).rows
    assert (anna["agent"], anna["agent_name"], anna["team"]) == ("101", "Anna Petrova", "sales")
    assert (anna["paused_s"], anna["paused_in_peak_s"]) == (3600, 1800)  # 11:00-11:30 in peak
    assert (team["kind"], team["team"], team["paused_s"]) == ("team_average", "sales", 3600)
    day = MetricFilter(date_from=date(2026, 1, 13), date_to=date(2026, 1, 13))
    rows = REPORTS["agents"](store, day, settings).rows
    assert [r["paused_s"] for r in rows if r["kind"] == "agent"] == []
