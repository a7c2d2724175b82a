"""Access to the dashboard and the API: nothing answers without a login or a token (except the
login form and health), roles narrow what is seen, forms carry CSRF tokens, tokens are scoped to
their tenant and can be revoked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from browser.company import PASSWORD, shared_company
from callscope.web import create_app
from callscope.web.access import create_token, revoke_token

OPEN = {"/login", "/health", "/vendor/{name}"}


def all_routes(routes: list[Any]) -> Iterator[Any]:
    """Routes of the app, with included routers opened up."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes)
        else:
            yield route


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store, settings = shared_company()
    with TestClient(create_app(settings, store)) as c:
        yield c


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the page CSRF token for later forms."""
    client.cookies.clear()
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    done = client.post(
        "/login",
        data={"username": user, "password": password, "csrf": csrf.group(1), "next": "/calls"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/calls"
    page = client.get("/settings" if user != "anna" else "/managers/101")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    return token.group(1)


def test_no_route_answers_without_credentials(client: TestClient) -> None:
    client.cookies.clear()
    checked = 0
    for route in all_routes(client.app.routes):  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if path in OPEN or path.startswith("/static") or "GET" not in methods:
            continue
        url = path.replace("{name}", "summary").replace("{number}", "+79990000000")
        url = url.replace("{agent}", "101")
        api = client.get(url, headers={"accept": "application/json"}, follow_redirects=False)
        page = client.get(url, headers={"accept": "text/html"}, follow_redirects=False)
        assert api.status_code == 401, url
        assert api.json()["ok"] is False and api.json()["error_id"]
        if not url.startswith("/api"):
            assert page.status_code == 303 and page.headers["location"].startswith("/login")
        checked += 1
    assert checked >= 15
    for form in ("/logout", "/lang"):
        assert client.post(form, data={"csrf": "x", "lang": "ru"}).status_code == 401


def test_health_and_login_form_are_open(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/health").json() == {"ok": True}
    form = client.get("/login")
    assert form.status_code == 200 and 'type="password"' in form.text


def test_a_wrong_password_is_refused_and_named(client: TestClient) -> None:
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf
    bad = client.post(
        "/login", data={"username": "head", "password": "nope", "csrf": csrf.group(1)}
    )
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    assert "cs_session" not in client.cookies


def test_login_without_its_csrf_token_is_forbidden(client: TestClient) -> None:
    client.cookies.clear()
    client.get("/login")
    forged = client.post(
        "/login",
        data={"username": "head", "password": PASSWORD, "csrf": "guess"},
        headers={"accept": "application/json"},
    )
    assert forged.status_code == 403


def test_next_never_leaves_the_site(client: TestClient) -> None:
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf
    done = client.post(
        "/login",
        data={
            "username": "head",
            "password": PASSWORD,
            "csrf": csrf.group(1),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/"


def test_logout_needs_the_session_csrf_and_ends_the_session(client: TestClient) -> None:
    csrf = login(client, "head")
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.get("/api/me").status_code == 200
    client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert client.get("/api/me", headers={"accept": "application/json"}).status_code == 401


def test_an_agent_sees_only_their_own_figures_and_calls(client: TestClient) -> None:
    login(client, "anna")
    assert client.get("/api/me").json()["role"] == "agent"
    rows = client.get("/api/reports/agents?period=month&agent=102").json()["rows"]
    assert {r["agent"] for r in rows if r["kind"] == "agent"} == {"101"}
    calls = client.get("/api/calls?period=month&limit=1000&agent=102").json()["rows"]
    store, _ = shared_company()
    rung = {
        r[0] for r in store.con.execute("SELECT call_id FROM legs WHERE agent = '101'").fetchall()
    }
    assert calls and all(c["call_id"] in rung or c["answered_by"] == "101" for c in calls)
    assert client.get("/managers/102", headers={"accept": "text/html"}).status_code == 403
    assert client.get("/settings", headers={"accept": "application/json"}).status_code == 403
    redirect = client.get("/managers?period=month", follow_redirects=False)
    assert redirect.headers["location"].startswith("/managers/101")


def test_tokens_are_tenant_scoped_and_revocable(client: TestClient) -> None:
    store, settings = shared_company()
    client.cookies.clear()
    token = create_token(store, "crm", role="supervisor", tenant=settings.tenant)
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/calls?period=month", headers=auth).json()["total"] > 0
    other = create_token(store, "elsewhere", role="supervisor", tenant="another-company")
    seen = client.get("/api/calls?period=month", headers={"authorization": f"Bearer {other}"})
    assert seen.json()["total"] == 0
    assert revoke_token(store, token.split("_")[1])
    assert client.get("/api/calls", headers=auth).status_code == 401
    assert client.get("/api/me", headers={"authorization": "Bearer cs_bogus_x"}).status_code == 401


def test_the_api_docs_need_a_login_and_load_no_cdn(client: TestClient) -> None:
    login(client, "head")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/vendor/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert client.get("/openapi.json").json()["info"]["title"] == "callscope"


def test_every_api_route_is_documented(client: TestClient) -> None:
    routes = all_routes(client.app.routes)  # type: ignore[attr-defined]
    paths = {r.path for r in routes if isinstance(r, APIRoute) and r.include_in_schema}
    assert {"/api/reports/{name}", "/api/calls", "/api/customers/{number}", "/api/me"} <= paths
