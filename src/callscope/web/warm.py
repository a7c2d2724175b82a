"""Warming at start-up and whenever the data changes: a background thread computes what the
pages ask for first: each report of the default period for the whole tenant (the trend with
the grouping the overview asks for), and one manager's page. The first visitor of the morning
gets a cached answer (the result cache lives in `callscope.web.reports`), and every other
period, manager or team reuses the SQL the metric layer compiled here for the same query shape
(`callscope.metrics.compiled`): compiling a report's query costs hundreds of milliseconds,
running it on demo data tens. The first warm-up also loads what a process reads once: the
page templates, each language's locale data (Babel reads it from disk: ~50 ms a locale) and
the PDF fonts (`callscope.web.pdffonts`). A server (`callscope serve`) accepts visitors only
after that first warm-up.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime

from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.web.calls import LogQuery, log_page
from callscope.web.deps import Access
from callscope.web.i18n import LANGS, Translator
from callscope.web.pages.overview import trend_grouping
from callscope.web.pdffonts import prepare as prepare_fonts
from callscope.web.reports import data_stamp, run_report
from callscope.web.scope import DEFAULT_PERIOD, period_of, reference_day
from callscope.web.view import templates

log = logging.getLogger("callscope.web")

# (report, options) the default pages run, in the order people open them
FIRST: tuple[tuple[str, dict[str, str]], ...] = (
    ("summary", {}),
    ("endpoints", {}),
    ("agents", {}),
    ("callbacks", {}),
    ("missed", {}),
    ("load", {}),
    ("patience", {}),
    ("pickup", {}),  # the whole tenant's (the manager's page asks for a team's: another shape)
)

OVERVIEW_TOO = ("month",)  # periods whose overview is warmed besides the default one


def manager_jobs(
    settings: Settings, flt: MetricFilter
) -> list[tuple[str, dict[str, str], MetricFilter]]:
    """One manager's page (the first configured agent, and their team): the metric layer
    compiles a query once per shape and reuses it for other agents and teams, so warming one
    manager makes every manager's first page cheap."""
    if not settings.agents:
        return []
    agent = sorted(settings.agents)[0]
    team = settings.agents[agent].team
    own = replace(flt, agents=(agent,))
    mates = replace(flt, teams=(team,)) if team else own
    return [
        ("agents", {}, mates),
        ("pickup", {}, mates),
        ("service", {"by": "day"}, own),
        ("missed", {}, own),
    ]


NOBODY = "+10000000000"  # a number no call has: compiles the shape, computes nothing


class Warmer:
    """Re-warms when the data stamp changes; checks every `every_s` seconds."""

    def __init__(self, access: Access, settings: Settings, every_s: float = 30) -> None:
        self.access = access
        self.settings = settings
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="callscope-warm", daemon=True)
        self._stamp: tuple[object, ...] | None = None
        self.ready = threading.Event()  # the first warm-up is over (done or failed)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def warm_once(self) -> int:
        """Compute the first reports if the data changed; returns how many were computed."""
        tenant = self.settings.tenant
        with self.access.lock:
            stamp = data_stamp(self.access.store)
            if stamp == self._stamp:
                return 0
            ref = reference_day(self.access.store, self.settings, tenant)
        period = period_of(DEFAULT_PERIOD, ref)
        flt = MetricFilter(date_from=period.start, date_to=period.end, tenant=tenant)
        prev = period.previous()
        jobs: list[tuple[str, dict[str, str], MetricFilter]] = [
            (name, options, flt) for name, options in FIRST
        ]
        # the overview first: its trend, and the period before for the comparison
        jobs.insert(1, ("service", {"by": trend_grouping(period)}, flt))
        jobs.insert(3, ("summary", {}, replace(flt, date_from=prev.start, date_to=prev.end)))
        if trend_grouping(period) != "day":  # the shape of every longer period's trend
            jobs.append(("service", {"by": "day"}, flt))
        jobs += manager_jobs(self.settings, flt)
        for name in OVERVIEW_TOO:  # the other period the selector offers most: its overview
            other = period_of(name, ref)
            prior = other.previous()
            within = replace(flt, date_from=other.start, date_to=other.end)
            jobs += [
                ("summary", {}, within),
                ("summary", {}, replace(flt, date_from=prior.start, date_to=prior.end)),
                ("service", {"by": trend_grouping(other)}, within),
                ("endpoints", {}, within),
            ]
        # a customer's history asks for one number's contacts over all time: another shape
        jobs.append(("missed", {}, MetricFilter(tenant=tenant, numbers=(NOBODY,))))
        if self._stamp is None:
            prepare_templates()
            prepare_formats(self.settings)
        done = 0
        for name, options, target in jobs:
            if self._stop.is_set():
                return done
            with self.access.lock:  # one report at a time: visitors get the store in between
                run_report(name, self.access.store, target, self.settings, options)
            done += 1
        with self.access.lock:  # the call log's first page: its colours, materialised
            log_page(self.access.store, flt, self.settings, LogQuery())
        self._stamp = stamp
        return done

    def warm_safely(self) -> int:
        try:
            return self.warm_once()
        except Exception as exc:  # warming must never take the server down
            log.warning("warming the report cache failed: %s", exc)
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.warm_safely()
            self.ready.set()
            self._stop.wait(self.every_s)


def prepare_templates() -> None:
    """Compile every page template once (Jinja caches them): the first visitor of a page
    should not pay for parsing it."""
    env = templates.env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def prepare_formats(settings: Settings) -> None:
    """Load each language's locale data and the PDF fonts: the first page in a language and
    the first PDF should not pay for reading them from disk."""
    now = datetime.now()
    for lang in LANGS:
        t = Translator(lang, settings.timezone)
        samples = (
            t.datetime(now),
            t.date(now.date()),
            t.date(now.date(), "d MMM"),
            t.weekday(0),
            t.number(1234.5, 1),
            t.percent(0.5),
            t.count("count.calls", 3),
        )
        log.debug("locale %s ready: %s", lang, " · ".join(samples))
    if settings.web.pdf_font.exists():
        prepare_fonts(settings.web.pdf_font)
