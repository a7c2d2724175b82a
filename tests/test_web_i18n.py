"""The dashboard speaks en, ru and uk: every word in all three, numbers and dates in the
reader's locale, times in the tenant's zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from browser.company import shared_company
from callscope.web import create_app
from callscope.web.access import create_token
from callscope.web.i18n import Translator
from callscope.web.messages import MESSAGES


def test_every_word_exists_in_every_language() -> None:
    missing = [
        k for k, v in MESSAGES.items() if set(v) != {"en", "ru", "uk"} or not all(v.values())
    ]
    assert missing == []


def test_numbers_dates_and_durations_follow_the_locale() -> None:
    en, ru, uk = (Translator(lang, "Europe/Kyiv") for lang in ("en", "ru", "uk"))
    assert en.number(12345) == "12,345"
    assert ru.number(12345) == "12\xa0345"
    assert uk.percent(0.1234) == "12,3%"
    assert en.percent(0.1234) == "12.3%"
    assert ru.duration(200) == "3 мин 20 с" and en.duration(7500) == "2 h 05 min"
    noon_utc = datetime(2026, 7, 1, 9, 0)  # naive UTC, as the store keeps it
    assert en.time(noon_utc) == "12:00"  # Kyiv is UTC+3 in summer
    assert uk.date("2026-11-22").replace("\u202f", " ") == "22 лист. 2026 р."


def test_unknown_keys_and_columns_read_as_words() -> None:
    t = Translator("ru", "UTC")
    assert t.column("brand_new_metric") == "Brand new metric"
    assert t.value("answered") == "отвечен"
    assert t.cell("miss_rate", 0.5) == "50,0\xa0%" or t.cell("miss_rate", 0.5).startswith("50,0")
    assert t.cell("pickup_s_median", 65) == "1 мин 05 с"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store, settings = shared_company()
    token = create_token(store, "i18n", role="admin", tenant=settings.tenant)
    with TestClient(create_app(settings, store)) as c:
        c.headers["authorization"] = f"Bearer {token}"
        yield c


@pytest.mark.parametrize(
    ("lang", "heading", "nav"),
    [
        ("en", "Managers", "Call log"),
        ("ru", "Менеджеры", "Журнал звонков"),
        ("uk", "Менеджери", "Журнал дзвінків"),
    ],
)
def test_pages_in_each_language(client: TestClient, lang: str, heading: str, nav: str) -> None:
    client.cookies.set("cs_lang", lang)
    html = client.get("/managers?period=month").text
    assert f'<html lang="{lang}"' in html
    assert f"<h1>{heading}</h1>" in html and nav in html
    client.cookies.clear()


def test_the_default_language_comes_from_the_config(client: TestClient) -> None:
    store, settings = shared_company()
    app = create_app(settings.model_copy(update={"lang": "uk"}), store)
    other = TestClient(app)  # not started: one live intake per store is the fixture's
    other.headers.update(client.headers)
    assert re.search(r"<h1>Огляд</h1>", other.get("/?period=month").text)
