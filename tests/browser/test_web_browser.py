"""The dashboard in a real browser, as a head of sales uses it on a laptop and a phone.

Each test leaves full-page screenshots in tests/browser/artefacts/ (look at them: a page is done
when it reads like a product, not when the test passes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.company import PASSWORD

pytestmark = pytest.mark.browser

AXE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "callscope"
    / "web"
    / "node_modules"
    / "axe-core"
    / "axe.js"
)
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
PAGES = {
    "overview": ("/", "Overview"),
    "managers": ("/managers", "Managers"),
    "manager": ("/managers/101", "Manager: Anna Petrova"),
    "calls": ("/calls", "Call log"),
    "callbacks": ("/callbacks", "Callbacks"),
    "load": ("/load", "Load"),
    "settings": ("/settings", "Settings"),
    "live": ("/live", "Live board"),
}


def login(page: Any, base: str, user: str = "head") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.fixture
def page(browser: Any, live_server: tuple[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.errors = errors
    yield tab
    context.close()
    assert errors == [], f"browser errors: {errors}"


def charts_drawn(page: Any) -> int:
    """Canvases Chart.js has drawn into (it registers each chart on its canvas)."""
    return int(page.evaluate("() => Object.keys(Chart.instances).length"))


def test_login_then_every_page_on_a_laptop(page: Any, live_server: Any, artefacts: Path) -> None:
    base, _ = live_server
    page.goto(f"{base}/managers")
    assert page.url.startswith(f"{base}/login")  # no way in without signing in
    page.screenshot(path=artefacts / "login.png", full_page=True)
    login(page, base)
    for name, (path, heading) in PAGES.items():
        page.goto(base + path)
        assert page.get_by_role("heading", level=1).inner_text() == heading
        if name not in ("calls", "settings", "live"):
            assert charts_drawn(page) > 0, f"no chart drawn on {path}"
        page.screenshot(path=artefacts / f"laptop-{name}.png", full_page=True)


def test_every_page_at_phone_width(browser: Any, live_server: Any, artefacts: Path) -> None:
    base, _ = live_server
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    tab = context.new_page()
    login(tab, base)
    for name, (path, heading) in PAGES.items():
        tab.goto(base + path)
        assert tab.get_by_role("heading", level=1).inner_text() == heading
        overflow = tab.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
        assert overflow <= 1, f"{path} scrolls sideways on a phone by {overflow}px"
        tab.screenshot(path=artefacts / f"phone-{name}.png", full_page=True)
    context.close()


def test_the_scorecard_sorts_by_a_column_and_keeps_the_average_last(
    page: Any, live_server: Any
) -> None:
    base, _ = live_server
    login(page, base)
    page.goto(f"{base}/managers?period=month")
    page.get_by_role("button", name="Miss rate").click()
    column = page.locator("thead th").all_inner_texts().index("MISS RATE")
    values = page.locator("tbody tr:not(.avg)").evaluate_all(
        f"rows => rows.map(r => parseFloat(r.cells[{column}].dataset.v))"
    )
    assert values == sorted(values, reverse=True)
    assert "avg" in (page.locator("tbody tr").last.get_attribute("class") or "")


def test_missed_control_then_a_customer_history(
    page: Any, live_server: Any, artefacts: Path
) -> None:
    base, _ = live_server
    login(page, base)
    page.goto(f"{base}/calls?period=month&agent=101")
    page.get_by_role("link", name="Missed control").click()
    page.wait_for_url("**status=open**")
    rows = page.locator("#call-log tbody tr")
    assert rows.count() > 0
    classes = set(rows.evaluate_all("rows => rows.map(r => r.className)"))
    assert classes == {"c-red"}  # open missed contacts only
    assert page.get_by_label("Manager").input_value() == "101"  # per manager: the choice stays
    page.screenshot(path=artefacts / "laptop-missed-control.png", full_page=True)
    number = rows.first.locator("a.customer").inner_text()
    rows.first.locator("a.customer").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Customer {number}"
    assert page.locator("#customer-calls tbody tr").count() >= 1
    page.screenshot(path=artefacts / "laptop-customer.png", full_page=True)


def test_switching_language_changes_words_and_number_formats(
    page: Any, live_server: Any, artefacts: Path
) -> None:
    base, _ = live_server
    login(page, base)
    page.get_by_role("button", name="RU").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", level=1).inner_text() == "Обзор"
    page.screenshot(path=artefacts / "laptop-overview-ru.png", full_page=True)
    page.goto(f"{base}/managers")
    page.screenshot(path=artefacts / "laptop-managers-ru.png", full_page=True)
    page.get_by_role("button", name="UK").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Менеджери"
    share = page.locator("td[data-v]").filter(has_text="%").first.inner_text()
    assert "," in share or share.startswith("0"), share  # Ukrainian decimal comma
    page.get_by_role("button", name="EN").click()


def test_exports_download_as_excel_and_pdf(page: Any, live_server: Any, artefacts: Path) -> None:
    base, _ = live_server
    login(page, base)
    page.goto(f"{base}/managers?period=month")
    with page.expect_download() as excel:
        page.get_by_role("link", name="Excel").click()
    saved = artefacts / excel.value.suggested_filename
    excel.value.save_as(saved)
    assert saved.name == "managers.xlsx" and saved.read_bytes()[:2] == b"PK"
    page.goto(f"{base}/load?period=month")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="PDF").click()
    saved = artefacts / pdf.value.suggested_filename
    pdf.value.save_as(saved)
    assert saved.name == "load.pdf" and saved.read_bytes()[:5] == b"%PDF-"


def test_an_agent_sees_only_their_own_page(browser: Any, live_server: Any, artefacts: Path) -> None:
    base, _ = live_server
    context = browser.new_context(viewport=LAPTOP)
    tab = context.new_page()
    login(tab, base, "anna")
    tab.goto(f"{base}/managers")
    assert tab.url.startswith(f"{base}/managers/101")
    assert tab.get_by_role("link", name="Settings").count() == 0
    tab.screenshot(path=artefacts / "laptop-agent-own-page.png", full_page=True)
    response = tab.goto(f"{base}/managers/102")
    assert response is not None and response.status == 403
    context.close()


@pytest.mark.parametrize(
    "name", ["overview", "managers", "manager", "calls", "callbacks", "load", "live"]
)
def test_main_pages_pass_the_accessibility_check(
    page: Any, live_server: Any, artefacts: Path, name: str
) -> None:
    """axe-core (from npm, injected by the test) on WCAG 2 A/AA rules: labels, contrast, names."""
    base, _ = live_server
    login(page, base)
    page.goto(base + PAGES[name][0])
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa']}, resultTypes: ['violations']})"
    )
    violations = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    (artefacts / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    assert violations == []
