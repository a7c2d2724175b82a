"""FastAPI dependencies every route shares: the store, the settings, the caller and their language.

The store is one DuckDB connection for the process; a lock hands it to one request at a time
(DuckDB runs each query on all cores, so queuing requests costs little on a dashboard's traffic).
No route answers without a principal except those that declare none (login, health, assets).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from callscope.errors import CallscopeError
from callscope.settings import Settings
from callscope.store import Store
from callscope.web.access import Principal, session_principal, token_principal
from callscope.web.i18n import LANGS, Translator
from callscope.web.scope import Scope, scope_of

SESSION_COOKIE = "cs_session"
LANG_COOKIE = "cs_lang"
LOGIN_CSRF_COOKIE = "cs_login_csrf"


class LoginRequiredError(CallscopeError):
    """No valid session or token: pages redirect to the login form, the API answers 401."""

    exit_code = 4


class ForbiddenError(CallscopeError):
    """Authenticated, but the role does not allow this (answered as 403)."""

    exit_code = 5


class CsrfError(CallscopeError):
    """A form posted without the token its page carried (answered as 403)."""

    exit_code = 5


class Access:
    """The process-wide store and its lock (app.state.access)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Iterator[Store]:
    access: Access = request.app.state.access
    with access.lock:
        yield access.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def get_principal(request: Request, store: StoreDep) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        who = token_principal(store, header[7:].strip())
        if who is None:
            raise LoginRequiredError("the API token is unknown, expired or revoked")
        return who
    cookie = request.cookies.get(SESSION_COOKIE)
    who = session_principal(store, cookie) if cookie else None
    if who is None:
        raise LoginRequiredError("sign in, or send an API token as 'Authorization: Bearer cs_...'")
    return who


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def authenticate(request: Request) -> Principal:
    """The caller, holding the store only for the look-up (for long-lived streams)."""
    access: Access = request.app.state.access
    with access.lock:
        return get_principal(request, access.store)


def require_supervisor(who: PrincipalDep) -> Principal:
    """Admins and supervisors: pages about the whole team (settings, everyone's scorecard)."""
    if who.role not in ("admin", "supervisor"):
        raise ForbiddenError("this needs the supervisor or admin role")
    return who


SupervisorDep = Annotated[Principal, Depends(require_supervisor)]


def get_scope(request: Request, store: StoreDep, settings: SettingsDep, who: PrincipalDep) -> Scope:
    return scope_of(request, store, settings, who)


ScopeDep = Annotated[Scope, Depends(get_scope)]


def language(request: Request, settings: Settings, who: Principal | None) -> str:
    """The cookie the switcher sets, else the user's own language, else the configured one."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return chosen
    if who is not None and who.lang in LANGS:
        return who.lang
    return settings.lang


def get_translator(request: Request, settings: SettingsDep, who: PrincipalDep) -> Translator:
    return Translator(language(request, settings, who), settings.timezone)


TranslatorDep = Annotated[Translator, Depends(get_translator)]


def check_csrf(sent: str | None, expected: str | None) -> None:
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfError("the form is stale or was not sent from this site; reload the page")
