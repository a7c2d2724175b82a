"""The REST API on a simulated sales office: reports in the shapes `callscope report` gives,
the call log's filters, sorting and cursor pages, one customer's history, and exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from browser.company import LAST_DAY, shared_company
from callscope.metrics import REPORTS, MetricFilter
from callscope.web import create_app
from callscope.web.access import create_token

MONTH = "period=month"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store, settings = shared_company()
    token = create_token(store, "tests", role="supervisor", tenant=settings.tenant)
    with TestClient(create_app(settings, store)) as c:
        c.headers["authorization"] = f"Bearer {token}"
        yield c


def rounded(doc: Any) -> Any:
    """Floats to 9 digits: the engine sums in parallel, so the last bits may differ per run."""
    if isinstance(doc, float):
        return float(f"{doc:.9g}")
    if isinstance(doc, dict):
        return {k: rounded(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [rounded(v) for v in doc]
    return doc


def calls(client: TestClient, query: str) -> dict[str, Any]:
    answer = client.get(f"/api/calls?{MONTH}&{query}")
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


def test_every_report_answers_as_the_metric_layer_does(client: TestClient) -> None:
    store, settings = shared_company()
    assert client.get("/api/reports").json()["reports"] == sorted({*REPORTS, "pickup"})
    flt = MetricFilter(date_from=LAST_DAY.replace(day=1), date_to=LAST_DAY, tenant="default")
    for name, fn in REPORTS.items():
        got = client.get(f"/api/reports/{name}?{MONTH}").json()
        assert rounded(got) == rounded(jsonable_encoder(fn(store, flt, settings).as_json())), name


def test_a_month_is_counted_back_from_the_last_day_with_calls(client: TestClient) -> None:
    period = client.get(f"/api/reports/summary?{MONTH}").json()["period"]
    assert period == {"from": "2026-11-01", "to": "2026-11-22", "tz": "Europe/Moscow"}
    custom = client.get("/api/reports/summary?from=2026-11-16&to=2026-11-17").json()["period"]
    assert (custom["from"], custom["to"]) == ("2026-11-16", "2026-11-17")


def test_report_options_and_filters(client: TestClient) -> None:
    hours = client.get(f"/api/reports/service?{MONTH}&by=hour").json()
    assert hours["rows"] and all("hour" in r for r in hours["rows"])
    one = client.get(f"/api/reports/agents?{MONTH}&agent=102").json()["rows"]
    assert {r["agent"] for r in one if r["kind"] == "agent"} == {"102"}
    line = client.get(f"/api/reports/summary?{MONTH}&line=74952220002").json()["rows"][0]
    everyone = client.get(f"/api/reports/summary?{MONTH}").json()["rows"][0]
    assert 0 < line["offered"] < everyone["offered"]


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/reports/nope", 404, "no report 'nope'"),
        ("/api/reports/service?by=minute", 400, "`by` must be one of"),
        ("/api/reports/summary?from=yesterday", 400, "`from` must be a date"),
        ("/api/reports/summary?period=decade", 400, "unknown period"),
        ("/api/calls?sort=colour", 400, "cannot sort by"),
        ("/api/calls?cursor=%21%21", 400, "`cursor` is not one this API gave out"),
        ("/api/calls?limit=0", 422, "invalid request parameters"),
    ],
)
def test_errors_come_in_one_envelope(client: TestClient, url: str, status: int, says: str) -> None:
    answer = client.get(url)
    assert answer.status_code == status
    doc = answer.json()
    assert doc["ok"] is False and doc["status"] == status and says in doc["error"]
    assert len(doc["error_id"]) == 12


def test_call_log_filters(client: TestClient) -> None:
    everything = calls(client, "limit=1000")
    assert everything["total"] == sum(everything["colours"].values())
    missed = calls(client, "outcome=missed&direction=inbound&limit=1000")["rows"]
    assert missed and {(r["outcome"], r["direction"]) for r in missed} == {("missed", "inbound")}
    red = calls(client, "colour=red&limit=1000")["rows"]
    assert red and {r["colour"] for r in red} == {"red"}
    open_ = calls(client, "status=open&limit=1000")["rows"]
    assert {r["status"] for r in open_} == {"open"}
    voicemail = calls(client, "end_stage=voicemail")["rows"]
    assert {r["end_stage"] for r in voicemail} == {"voicemail"}
    line = calls(client, "line=74952220001&limit=1000")["rows"]
    assert line and {r["line"] for r in line} == {"74952220001"}
    number = everything["rows"][0]["external_number"]
    mine = calls(client, f"number={number.replace('+', '%2B')}")["rows"]
    assert mine and {r["external_number"] for r in mine} == {number}
    team = calls(client, "team=sales")["total"]
    nobody = calls(client, "team=no-such-team")["total"]
    assert team > 0 and nobody == 0


def test_call_log_sorting(client: TestClient) -> None:
    rows = calls(client, "sort=wait_s&order=asc&limit=200")["rows"]
    waits = [r["wait_s"] if r["wait_s"] is not None else -1 for r in rows]
    assert waits == sorted(waits)
    newest = calls(client, "limit=50")["rows"]
    starts = [r["started_at"] for r in newest]
    assert starts == sorted(starts, reverse=True)
    assert starts[0].endswith("+03:00")  # tenant time, ISO 8601 with its offset


@pytest.mark.parametrize(
    ("sort", "order"), [("started_at", "desc"), ("talk_s", "asc"), ("external_number", "desc")]
)
def test_cursor_pages_cover_the_log_once(client: TestClient, sort: str, order: str) -> None:
    whole = calls(client, f"sort={sort}&order={order}&limit=1000")
    seen: list[str] = []
    cursor = ""
    while True:
        page = calls(client, f"sort={sort}&order={order}&limit=97{cursor}")
        seen += [r["call_id"] for r in page["rows"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == whole["total"]
    assert seen[:1000] == [r["call_id"] for r in whole["rows"]]


def test_call_log_exports(client: TestClient) -> None:
    csv = client.get(f"/api/calls?{MONTH}&colour=red&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("call_id,started_at,direction")
    assert len(lines) - 1 == calls(client, "colour=red")["total"]
    xlsx = client.get(f"/api/calls?{MONTH}&format=xlsx")
    assert 'filename="calls.xlsx"' in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet["A4"].value == "Call id"
    pdf = client.get(f"/api/reports/agents?{MONTH}&format=pdf")
    assert pdf.content.startswith(b"%PDF-")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_big_report_streams_the_bytes_the_rows_would_give(client: TestClient, fmt: str) -> None:
    """`missed` keeps its rows as Arrow and the route writes them as they are made: the same
    bytes FastAPI gives for as_json() (JSONResponse) and the export gives for its rows."""
    from fastapi.responses import JSONResponse

    from callscope.web.api import report_columns
    from callscope.web.export import to_csv
    from callscope.web.reports import run_report

    store, settings = shared_company()
    flt = MetricFilter(date_from=LAST_DAY.replace(day=1), date_to=LAST_DAY, tenant="default")
    report = run_report("missed", store, flt, settings)  # the route's (cached) Report
    assert report.table is not None and report.row_count > 20
    answer = client.get(f"/api/reports/missed?{MONTH}&format={fmt}")
    assert answer.status_code == 200
    if fmt == "json":
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == JSONResponse(jsonable_encoder(report.as_json())).body
    else:
        assert 'filename="missed.csv"' in answer.headers["content-disposition"]
        assert answer.content == to_csv(report_columns(report), report.rows)


def test_a_customer_history(client: TestClient) -> None:
    contact = client.get(f"/api/reports/missed?{MONTH}").json()["rows"][0]
    number = contact["external_number"]
    history = client.get(f"/api/customers/{number}").json()
    assert history["number"] == number
    assert history["calls"] and {c["external_number"] for c in history["calls"]} == {number}
    assert all("legs" in c for c in history["calls"])
    contacts = history["missed_contacts"]["rows"]
    assert contact["contact_id"] in {c["contact_id"] for c in contacts}
    national = "8" + number[2:]  # the same customer written as dialled in Russia
    assert client.get(f"/api/customers/{national}").json()["number"] == number


def test_pages_answer_as_json_and_exports_too(client: TestClient) -> None:
    for page in ("/", "/managers", "/managers/101", "/callbacks", "/load", "/calls"):
        doc = client.get(f"{page}?{MONTH}&format=json")
        assert doc.status_code == 200, page
        if page == "/callbacks":  # the JSON has every contact of the period, the page its open ones
            assert set(doc.json()) == {"callbacks", "missed"}
            assert doc.json()["missed"]["rows"]
        for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF-")):
            body = client.get(f"{page}?{MONTH}&format={fmt}").content
            assert body.startswith(magic), (page, fmt)
    summary = client.get(f"/?{MONTH}&format=json").json()["summary"]
    assert summary["period"]["from"] == date(2026, 11, 1).isoformat()


def test_the_warmer_computes_the_first_pages_once_per_data_change() -> None:
    from callscope.web import reports
    from callscope.web.deps import Access
    from callscope.web.reports import clear_cache
    from callscope.web.warm import FIRST, Warmer

    store, settings = shared_company()
    clear_cache()
    warmer = Warmer(Access(store), settings)
    # the first pages with the overview's trend, the previous period's summary, one manager's
    # page (4 reports) and the shape of a customer's history
    assert warmer.warm_once() >= len(FIRST) + 1 + 1 + 4 + 1
    assert warmer.warm_once() == 0  # nothing changed since
    client = TestClient(create_app(settings, store))
    token = create_token(store, "warm", role="supervisor", tenant=settings.tenant)

    def not_cached(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a report the warmer should have computed ran again")

    with pytest.MonkeyPatch.context() as patch:  # the overview and a manager's page run none
        stubs = dict.fromkeys(reports.report_names(), not_cached)
        patch.setattr(reports, "registry", lambda: stubs)
        for url in ("/", "/managers/101", "/api/reports/pickup"):
            page = client.get(url, headers={"authorization": f"Bearer {token}"})
            assert page.status_code == 200, f"{url}: {page.text}"


def test_red_flags_mark_a_manager_far_worse_than_the_team() -> None:
    from callscope.metrics.flags import flagged

    team = {"agents": 4, "miss_rate": 0.10, "pickup_s_median": 4.0, "never_called_back": 1.0}
    assert flagged({"miss_rate": 0.35, "pickup_s_median": 5.0}, team) == ["miss_rate"]
    assert flagged({"miss_rate": 0.14}, team) == []  # worse, but not far: under +10 points
    assert flagged({"pickup_s_median": 12.0, "never_called_back": 4}, team) == [
        "pickup_s_median",
        "never_called_back",
    ]
    assert flagged({"miss_rate": 0.9}, {**team, "agents": 1}) == []  # nobody to compare with
