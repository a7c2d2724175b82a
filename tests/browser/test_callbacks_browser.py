"""The callbacks page of a period with more open contacts than it lists: the newest ones, how
many there are, and one click to the call log that holds them all (screenshots in artefacts/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.company import build_company
from browser.conftest import serving
from browser.test_web_browser import AXE, LAPTOP, login
from callscope.settings import Settings
from callscope.store import open_store

pytestmark = pytest.mark.browser
SHOWN = 10  # the simulated month has 33 open contacts


@pytest.fixture(scope="module")
def few_shown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    db = tmp_path_factory.mktemp("callbacks") / "company.duckdb"
    with open_store(db) as store:
        settings = build_company(store)
    web = settings.web.model_copy(update={"open_contacts_shown": SHOWN})
    settings = settings.model_copy(update={"db": db, "web": web})
    with serving(settings) as base:
        yield base, settings


def test_the_newest_open_contacts_then_all_of_them_in_the_call_log(
    browser: Any, few_shown: tuple[str, Settings], artefacts: Path
) -> None:
    base, _ = few_shown
    context = browser.new_context(viewport=LAPTOP, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, base)
    page.goto(f"{base}/callbacks?period=month")
    section = page.locator("section[aria-labelledby=open-h]")
    assert section.locator("tbody tr").count() == SHOWN
    note = section.locator("#open-count").inner_text()
    assert note == f"Showing the newest {SHOWN} of 33 · All open contacts in the call log (33) →"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa']}, resultTypes: ['violations']})"
    )
    assert [v["id"] for v in result["violations"]] == []
    page.screenshot(path=artefacts / "laptop-callbacks-newest.png", full_page=True)
    section.get_by_role("link", name="All open contacts in the call log").click()
    page.wait_for_url("**/calls?**status=open%2Cattempted**")
    rows = page.locator("#call-log tbody tr")
    assert rows.count() > 0
    classes = set(rows.evaluate_all("rows => rows.map(r => r.className)"))
    assert classes <= {"c-red", "c-yellow"}  # open and attempted contacts' calls only
    status = page.locator("select[name=status]")
    shown = status.evaluate("s => s.options[s.selectedIndex].text")
    assert shown == "not reached yet"  # the filter says what it shows
    page.screenshot(path=artefacts / "laptop-callbacks-all-open.png", full_page=True)
    context.close()
    assert errors == []
