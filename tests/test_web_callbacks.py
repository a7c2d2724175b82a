"""The callbacks page lists the newest open missed contacts, not every one of the period (a year
of a big office has tens of thousands): it says how many it shows of how many, links to the call
log filtered to them (which pages through all), and its Excel download still holds every one."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from browser.company import shared_company
from callscope.web import create_app
from callscope.web.access import create_token

MONTH = "period=month"
SHOWN = 10


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store, settings = shared_company()
    web = settings.web.model_copy(update={"open_contacts_shown": SHOWN})
    settings = settings.model_copy(update={"web": web})
    token = create_token(store, "callbacks", role="supervisor", tenant=settings.tenant)
    with TestClient(create_app(settings, store)) as c:
        c.headers["authorization"] = f"Bearer {token}"
        yield c


def open_contacts(client: TestClient) -> list[dict[str, Any]]:
    """Every open contact of the month, newest first, as the missed report has them."""
    rows = client.get(f"/api/reports/missed?{MONTH}").json()["rows"]
    return [r for r in rows if r["status"] in ("open", "attempted")]


def open_section(html: str) -> str:
    return html[html.index('id="open-h"') :]


def test_the_page_lists_the_newest_open_contacts_and_says_how_many_there_are(
    client: TestClient,
) -> None:
    wanted = open_contacts(client)
    assert len(wanted) > SHOWN  # the simulated month has more than the page shows
    html = open_section(client.get(f"/callbacks?{MONTH}").text)
    numbers = re.findall(r'<a class="customer" href="/customers/[^"]+">([^<]+)</a>', html)
    assert numbers == [r["external_number"] for r in wanted[:SHOWN]]
    assert f"Showing the newest {SHOWN} of {len(wanted)}" in html
    assert f"All open contacts in the call log ({len(wanted)})" in html


def test_the_link_leads_to_a_call_log_that_pages_through_every_open_contact(
    client: TestClient,
) -> None:
    wanted = open_contacts(client)
    html = open_section(client.get(f"/callbacks?{MONTH}").text)
    href = re.search(r'<a href="(/calls\?[^"]+)">All open contacts', html)
    assert href is not None
    url = urlsplit(href.group(1).replace("&amp;", "&"))
    query = parse_qs(url.query)
    assert (url.path, query["period"], query["status"]) == ("/calls", ["month"], ["open,attempted"])
    seen: set[str] = set()
    statuses: set[str] = set()
    cursor = ""
    pages = 0
    while True:
        doc = client.get(f"/api/calls?{url.query}&limit=20{cursor}").json()
        pages += 1
        seen |= {r["external_number"] for r in doc["rows"]}
        statuses |= {r["status"] for r in doc["rows"]}
        if not doc["next_cursor"]:
            break
        cursor = f"&cursor={doc['next_cursor']}"
    assert pages > 1
    assert statuses == {"open", "attempted"}
    assert seen == {r["external_number"] for r in wanted}
    page = client.get(href.group(1).replace("&amp;", "&"))  # the page itself
    assert page.status_code == 200
    # its status filter says which statuses it shows (it said "All" before)
    chosen = re.findall(r'<option value="([^"]*)" selected>([^<]*)</option>', page.text)
    assert ("open,attempted", "not reached yet") in chosen


def test_the_excel_download_keeps_every_open_contact(client: TestClient) -> None:
    wanted = open_contacts(client)
    book = load_workbook(io.BytesIO(client.get(f"/callbacks?{MONTH}&format=xlsx").content))
    sheet = book.worksheets[-1]
    assert sheet.title == "4 Still open"
    assert [row[1] for row in sheet.iter_rows(min_row=5, values_only=True)] == [
        r["external_number"] for r in wanted
    ]


def test_a_period_with_few_open_contacts_shows_them_all_without_the_note(
    client: TestClient,
) -> None:
    day = "from=2026-11-22&to=2026-11-22"
    rows = client.get(f"/api/reports/missed?{day}").json()["rows"]
    few = [r for r in rows if r["status"] in ("open", "attempted")]
    assert len(few) <= SHOWN
    html = open_section(client.get(f"/callbacks?{day}").text)
    assert "Showing the newest" not in html
