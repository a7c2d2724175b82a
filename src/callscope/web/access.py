"""Who may see what: users with roles, login sessions and tenant-scoped API tokens.

Passwords are hashed with argon2id (argon2-cffi); session cookies and API tokens are random
values of 256 bits of which the store keeps only a SHA-256, so a copy of the database gives no
way in. A principal carries its tenant and, for the agent role, the agent whose figures it may see:
every query of the web layer is narrowed by it (see `callscope.web.scope`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from callscope.errors import CallscopeError
from callscope.store import Store

ROLES = ("admin", "supervisor", "agent")
TOKEN_PREFIX = "cs_"

_hasher = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("callscope-no-such-user")


class AccessError(CallscopeError):
    """A user or token request that cannot be carried out (unknown role, duplicate name)."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    name: str
    tenant: str
    role: str
    agent: str | None = None
    lang: str | None = None
    csrf: str | None = None  # set for browser sessions; token callers send no forms
    via: str = "session"  # session | token

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _check_role(role: str, agent: str | None) -> None:
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r} (use {', '.join(ROLES)})")
    if role == "agent" and not agent:
        raise AccessError("an agent-role login needs --agent: the agent whose figures it sees")


def add_user(
    store: Store,
    username: str,
    password: str,
    *,
    role: str,
    tenant: str,
    agent: str | None = None,
    lang: str | None = None,
) -> None:
    """Create a login; an existing name is an error (delete it first to change the role)."""
    _check_role(role, agent)
    if len(password) < 8:
        raise AccessError("a password needs at least 8 characters")
    exists = store.con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone()
    if exists:
        raise AccessError(f"user {username!r} already exists")
    store.con.execute(
        "INSERT INTO users (username, tenant, role, agent, password_hash, lang, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [username, tenant, role, agent, _hasher.hash(password), lang, _now()],
    )


def list_users(store: Store) -> list[tuple[str, str, str, str | None]]:
    rows = store.con.execute(
        "SELECT username, tenant, role, agent FROM users ORDER BY username"
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The user if the password is right; None for any failure, timed alike."""
    row = store.con.execute(
        "SELECT password_hash, tenant, role, agent, lang FROM users"
        " WHERE username = ? AND NOT disabled",
        [username],
    ).fetchone()
    try:
        _hasher.verify(row[0] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return Principal(username, row[1], row[2], row[3], row[4])


def start_session(store: Store, username: str, hours: float) -> str:
    """A new login session; returns the cookie value (only its hash is stored)."""
    cookie = secrets.token_urlsafe(32)
    now = _now()
    store.con.execute(
        "DELETE FROM web_sessions WHERE expires_at < ?", [now]
    )  # housekeeping on each login keeps the table small
    store.con.execute(
        "INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?)",
        [_sha256(cookie), username, secrets.token_urlsafe(32), now, now + timedelta(hours=hours)],
    )
    return cookie


def session_principal(store: Store, cookie: str) -> Principal | None:
    row = store.con.execute(
        "SELECT u.username, u.tenant, u.role, u.agent, u.lang, s.csrf"
        " FROM web_sessions s JOIN users u USING (username)"
        " WHERE s.session_sha256 = ? AND s.expires_at > ? AND NOT u.disabled",
        [_sha256(cookie), _now()],
    ).fetchone()
    if row is None:
        return None
    return Principal(row[0], row[1], row[2], row[3], row[4], csrf=row[5])


def end_session(store: Store, cookie: str) -> None:
    store.con.execute("DELETE FROM web_sessions WHERE session_sha256 = ?", [_sha256(cookie)])


def create_token(
    store: Store,
    name: str,
    *,
    role: str,
    tenant: str,
    agent: str | None = None,
    days: float | None = None,
) -> str:
    """A new API token `cs_<id>_<secret>`; shown once, only the secret's hash is kept."""
    _check_role(role, agent)
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(days=days) if days else None
    store.con.execute(
        "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [token_id, tenant, name, role, agent, _sha256(secret), now, expires],
    )
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def revoke_token(store: Store, token_id: str) -> bool:
    found = store.con.execute(
        "SELECT 1 FROM api_tokens WHERE token_id = ? AND revoked_at IS NULL", [token_id]
    ).fetchone()
    if found:
        store.con.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?", [_now(), token_id]
        )
    return found is not None


def token_principal(store: Store, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
        return None
    token_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    row = store.con.execute(
        "SELECT name, tenant, role, agent, secret_sha256 FROM api_tokens"
        " WHERE token_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        [token_id, _now()],
    ).fetchone()
    if row is None or not secrets.compare_digest(row[4], _sha256(secret)):
        return None
    return Principal(f"token:{row[0]}", row[1], row[2], row[3], via="token")
