"""Signing in and out, and the language switch: the only forms that change anything.

The login form is protected by a double-submit token (a random cookie the form repeats), every
form after login by the session's own CSRF token; cookies are HttpOnly and SameSite=Lax.
A `next` target is followed only when it is a path on this site (no open redirect).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callscope.web.access import authenticate, end_session, start_session
from callscope.web.deps import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PrincipalDep,
    SettingsDep,
    StoreDep,
    check_csrf,
    language,
)
from callscope.web.i18n import LANGS, Translator

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, settings: SettingsDep, next_url: str, error: str | None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    t = Translator(language(request, settings, None), settings.timezone)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"t": t, "csrf": token, "next": next_url, "error": error, "langs": LANGS},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.web.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return _login_page(request, settings, _safe_next(next), None)


@router.post("/login")
def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(csrf, request.cookies.get(LOGIN_CSRF_COOKIE))
    who = authenticate(store, username.strip(), password)
    if who is None:
        return _login_page(request, settings, _safe_next(next), "login.failed", status=401)
    cookie = start_session(store, who.name, settings.web.session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.web.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.web.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, store: StoreDep, who: PrincipalDep, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(csrf, who.csrf)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(store, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang")
def switch_language(
    settings: SettingsDep,
    who: PrincipalDep,
    lang: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(csrf, who.csrf)
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=settings.web.secure_cookies,
        )
    return response
