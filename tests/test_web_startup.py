"""A server opens its own store and listens only once the first warm-up is over, so the first
visitor of the morning gets the default period's pages computed, not a share of the warm-up."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from callscope.settings import AgentConfig, Settings
from callscope.store import open_store
from callscope.testing import import_text
from callscope.web import create_app, reports
from callscope.web.access import create_token

# two answered calls and one that rang out, Monday 2026-01-12, Moscow
CALLS = """
"","89161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,90","2026-01-12 10:00:00","2026-01-12 10:00:02","2026-01-12 10:01:02",62,60,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1
"","89161110002","102","from-pstn","","PJSIP/trunk-02","PJSIP/102-02","Dial","PJSIP/102,90","2026-01-12 10:10:00","2026-01-12 10:10:07","2026-01-12 10:11:07",67,60,"ANSWERED","DOCUMENTATION","2.1","","","2.1",2
"","89161110003","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-03","Dial","PJSIP/101,30","2026-01-12 11:00:00","","2026-01-12 11:00:30",30,0,"NO ANSWER","DOCUMENTATION","3.1","","","3.1",3
"""


def test_a_server_listens_once_the_default_pages_are_computed(
    tmp_path: Path, settings: Settings
) -> None:
    team = {ext: AgentConfig(name=f"Agent {ext}", team="sales") for ext in ("101", "102")}
    settings = settings.model_copy(update={"agents": team, "db": tmp_path / "office.duckdb"})
    with open_store(settings.db) as store:
        import_text(store, tmp_path, CALLS, settings=settings)
        token = create_token(store, "t", role="supervisor", tenant=settings.tenant)
    reports.clear_cache()
    with TestClient(create_app(settings)) as client:  # no store given: a server's start-up
        warmed = len(reports._cache)
        page = client.get("/", headers={"authorization": f"Bearer {token}"})
    assert warmed > 0  # before the first request was even sent
    assert page.status_code == 200
