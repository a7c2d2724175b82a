"""Commands of the web layer: `serve`, `user add|list`, `token create|revoke`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from callscope.cli.common import SHUTDOWN_GRACE_S, DbOpt, app, keep_contacts_current, out
from callscope.cli.common import load_cli_settings as _settings
from callscope.errors import CallscopeError
from callscope.store import open_store
from callscope.web.access import ROLES, add_user, create_token, list_users, revoke_token

PASSWORD_ENV = "CALLSCOPE_PASSWORD"

user_app = typer.Typer(
    no_args_is_help=True, help="Dashboard logins (roles: admin, supervisor, agent)."
)
token_app = typer.Typer(no_args_is_help=True, help="Tenant-scoped API tokens.")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

RoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", help="For the agent role: the agent (extension) it sees")
]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default from config)")]


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address (default web.host)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default web.port)")] = None,
    db: DbOpt = None,
) -> None:
    """Run the dashboard and REST API (OpenAPI at /docs) until interrupted."""
    import uvicorn

    from callscope.live.http import FastIntake
    from callscope.web import create_app

    settings = _settings(db)
    host = host or settings.web.host
    port = port or settings.web.port
    with open_store(settings.db) as store:
        users = len(list_users(store))
        keep_contacts_current(store, settings)
    if users == 0:
        out.print("no logins yet: create one with `callscope user add NAME --role admin`")
    out.print(
        f"callscope dashboard: http://{host}:{port}/  (API docs: http://{host}:{port}/docs);"
        " it opens once its reports are warmed up, a few seconds",
        soft_wrap=True,
    )
    uvicorn.run(
        FastIntake(create_app(settings)),  # the dashboard also takes webhook events, fast
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CallscopeError(f"cannot read {password_file}: {exc.strerror}") from exc
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: RoleOpt = "supervisor",
    agent: AgentOpt = None,
    tenant: TenantOpt = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en, ru or uk")] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help=f"Read the password from a file (else ${PASSWORD_ENV} or a prompt)",
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create a dashboard login; the password is stored as an argon2id hash."""
    settings = _settings(db)
    password = _password(password_file)
    with open_store(settings.db) as store:
        add_user(
            store,
            username,
            password,
            role=role,
            tenant=tenant or settings.tenant,
            agent=agent,
            lang=lang,
        )
    out.print(f"user {username} added ({role})")


@user_app.command("list")
def user_list(db: DbOpt = None) -> None:
    """Logins with their tenant, role and agent."""
    settings = _settings(db)
    with open_store(settings.db) as store:
        for name, tenant, role, agent in list_users(store):
            out.print(f"{name}\t{tenant}\t{role}\t{agent or ''}", highlight=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for (e.g. crm-sync)")],
    role: RoleOpt = "supervisor",
    agent: AgentOpt = None,
    tenant: TenantOpt = None,
    days: Annotated[
        float | None, typer.Option("--days", help="Expire after this many days")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create an API token; it is printed once (send it as `Authorization: Bearer ...`)."""
    settings = _settings(db)
    with open_store(settings.db) as store:
        token = create_token(
            store, name, role=role, tenant=tenant or settings.tenant, agent=agent, days=days
        )
    out.print(token, highlight=False, soft_wrap=True)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id part of cs_<id>_<secret>")],
    db: DbOpt = None,
) -> None:
    """Revoke an API token at once."""
    settings = _settings(db)
    with open_store(settings.db) as store:
        if not revoke_token(store, token_id):
            raise CallscopeError(f"no active token {token_id!r}")
    out.print(f"token {token_id} revoked")
