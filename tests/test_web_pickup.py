"""The pickup-time distribution (the `pickup` report) and the manager page that charts it: an
agent's buckets add up to the scorecard's `answered`, on pasted PBX lines and on the simulated
sales office; the page, its JSON and its Excel/PDF downloads show the same counts."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from browser.company import LAST_DAY, shared_company
from callscope.metrics import MetricFilter, agents
from callscope.metrics.pickup import pickup
from callscope.settings import AgentConfig, Settings
from callscope.store import Store
from callscope.testing import import_text
from callscope.web import create_app
from callscope.web.access import create_token

# Monday 2026-01-12, Moscow. 101 picks up after 2, 7, 12, 45 and 70 s (answer - start of the
# Dial line), answers one more after 3 s but drops it after 2 s of talk (under min_talk_s: not
# answered), and lets one ring out; 102 picks up after 5 s (a bound: the 5-10 s bucket) and 25 s.
RINGS = """
"","89161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,90","2026-01-12 10:00:00","2026-01-12 10:00:02","2026-01-12 10:01:02",62,60,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1
"","89161110002","101","from-pstn","","PJSIP/trunk-02","PJSIP/101-02","Dial","PJSIP/101,90","2026-01-12 10:10:00","2026-01-12 10:10:07","2026-01-12 10:11:07",67,60,"ANSWERED","DOCUMENTATION","2.1","","","2.1",2
"","89161110003","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-03","Dial","PJSIP/101,90","2026-01-12 10:20:00","2026-01-12 10:20:12","2026-01-12 10:21:12",72,60,"ANSWERED","DOCUMENTATION","3.1","","","3.1",3
"","89161110004","101","from-pstn","","PJSIP/trunk-04","PJSIP/101-04","Dial","PJSIP/101,90","2026-01-12 10:30:00","2026-01-12 10:30:45","2026-01-12 10:31:45",105,60,"ANSWERED","DOCUMENTATION","4.1","","","4.1",4
"","89161110005","101","from-pstn","","PJSIP/trunk-05","PJSIP/101-05","Dial","PJSIP/101,90","2026-01-12 10:40:00","2026-01-12 10:41:10","2026-01-12 10:42:10",130,60,"ANSWERED","DOCUMENTATION","5.1","","","5.1",5
"","89161110006","101","from-pstn","","PJSIP/trunk-06","PJSIP/101-06","Dial","PJSIP/101,90","2026-01-12 10:50:00","2026-01-12 10:50:03","2026-01-12 10:50:05",5,2,"ANSWERED","DOCUMENTATION","6.1","","","6.1",6
"","89161110007","101","from-pstn","","PJSIP/trunk-07","PJSIP/101-07","Dial","PJSIP/101,30","2026-01-12 11:00:00","","2026-01-12 11:00:30",30,0,"NO ANSWER","DOCUMENTATION","7.1","","","7.1",7
"","89161110008","102","from-pstn","","PJSIP/trunk-08","PJSIP/102-08","Dial","PJSIP/102,90","2026-01-12 11:10:00","2026-01-12 11:10:05","2026-01-12 11:11:05",65,60,"ANSWERED","DOCUMENTATION","8.1","","","8.1",8
"","89161110009","102","from-pstn","","PJSIP/trunk-09","PJSIP/102-09","Dial","PJSIP/102,90","2026-01-12 11:20:00","2026-01-12 11:20:25","2026-01-12 11:21:25",85,60,"ANSWERED","DOCUMENTATION","9.1","","","9.1",9
"""
LABELS = ["0-5 s", "5-10 s", "10-15 s", "15-20 s", "20-30 s", "30-60 s", "60+ s", "unknown"]


def counts(rows: list[dict[str, object]], kind: str, key: str, who: str) -> list[object]:
    return [r["answered"] for r in rows if r["kind"] == kind and r[key] == who]


def test_pasted_rings_fall_into_the_buckets_their_seconds_say(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    team = {ext: AgentConfig(name=f"Agent {ext}", team="sales") for ext in ("101", "102")}
    settings = settings.model_copy(update={"agents": team})
    import_text(store, tmp_path, RINGS, settings=settings)
    report = pickup(store, MetricFilter(), settings).as_json()
    assert report["buckets"] == LABELS
    rows = report["rows"]
    assert [r["pickup_bucket"] for r in rows if r["agent"] == "101"] == LABELS
    assert counts(rows, "agent", "agent", "101") == [1, 1, 1, 0, 0, 1, 1, 0]
    assert counts(rows, "agent", "agent", "102") == [0, 1, 0, 0, 1, 0, 0, 0]
    assert counts(rows, "team", "team", "sales") == [1, 2, 1, 0, 1, 1, 1, 0]
    share = {r["pickup_bucket"]: r["share"] for r in rows if r["kind"] == "team"}
    assert share["5-10 s"] == pytest.approx(2 / 7)
    scorecard = agents(store, MetricFilter(), settings).rows
    answered = {r["agent"]: r["answered"] for r in scorecard if r["kind"] == "agent"}
    assert answered == {"101": 5, "102": 2}  # the 2-second talk is not an answer
    one = pickup(store, MetricFilter(agents=("102",)), settings).rows
    assert {r["agent"] for r in one if r["kind"] == "agent"} == {"102"}
    assert counts(one, "team", "team", "sales") == [0, 1, 0, 0, 1, 0, 0, 0]


def test_an_agents_buckets_add_up_to_the_scorecards_answered() -> None:
    store, settings = shared_company()
    for flt in (
        MetricFilter(date_from=LAST_DAY.replace(day=1), date_to=LAST_DAY),
        MetricFilter(date_from=LAST_DAY, date_to=LAST_DAY),
        MetricFilter(lines=("74952220002",)),
    ):
        scorecard = agents(store, flt, settings).rows
        answered = {r["agent"]: r["answered"] for r in scorecard if r["kind"] == "agent"}
        rows = pickup(store, flt, settings).rows
        summed: dict[str, int] = {}
        for r in rows:
            if r["kind"] == "agent":
                summed[r["agent"]] = summed.get(r["agent"], 0) + int(r["answered"])
        assert {a: n for a, n in answered.items() if n} == summed, flt
        assert sum(summed.values()) == sum(int(r["answered"]) for r in rows if r["kind"] == "team")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store, settings = shared_company()
    token = create_token(store, "pickup-tests", role="supervisor", tenant=settings.tenant)
    with TestClient(create_app(settings, store)) as c:
        c.headers["authorization"] = f"Bearer {token}"
        yield c


def test_the_manager_page_charts_the_reports_buckets(client: TestClient) -> None:
    doc = client.get("/managers/101?period=month&format=json").json()
    rows = doc["pickup"]["rows"]
    mine = counts(rows, "agent", "agent", "101")
    answered = next(r for r in doc["agents"]["rows"] if r["agent"] == "101")["answered"]
    assert sum(int(n) for n in mine) == answered > 0
    html = client.get("/managers/101?period=month").text
    assert "Time to pick up: distribution" in html and 'id="pickup-data"' in html
    spec = html.split('id="pickup-data">', 1)[1].split("</script>", 1)[0]
    assert '"unit": "percent"' in spec and "Team: sales" in spec
    labels = json.loads(spec)["labels"]
    assert labels[0] == "0–5 s" and labels[-1] == "60+ s"


def test_excel_and_pdf_carry_the_distribution_the_page_shows(client: TestClient) -> None:
    doc = client.get("/managers/101?period=month&format=json").json()
    mine = counts(doc["pickup"]["rows"], "agent", "agent", "101")[:7]
    book = load_workbook(io.BytesIO(client.get("/managers/101?period=month&format=xlsx").content))
    sheet = next(s for s in book.worksheets if "distribution" in s.title)
    body = list(sheet.iter_rows(min_row=5, values_only=True))
    assert [r[1] for r in body][:7] == mine
    assert body[0][0] == "0–5 s" and isinstance(body[0][2], float)
    pdf = client.get("/managers/101?period=month&format=pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
