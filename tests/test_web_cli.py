"""`callscope user add|list` and `callscope token create|revoke`: logins and tokens from the
command line, passwords never on the command line itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.store import open_store
from callscope.web.access import authenticate, token_principal


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_user_add_hashes_the_password_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    out = run(
        "user",
        "add",
        "boss",
        "--role",
        "admin",
        "--db",
        str(db),
        env={"CALLSCOPE_PASSWORD": "s3cret-pass"},
    )
    assert "user boss added (admin)" in out
    run(
        "user",
        "add",
        "anna",
        "--role",
        "agent",
        "--agent",
        "101",
        "--db",
        str(db),
        env={"CALLSCOPE_PASSWORD": "another-pass"},
    )
    assert run("user", "list", "--db", str(db)).split()[:4] == ["anna", "default", "agent", "101"]
    with open_store(db) as store:
        stored = store.con.execute("SELECT password_hash FROM users WHERE username='boss'")
        row = stored.fetchone()
        assert row is not None and row[0].startswith("$argon2id$")
        assert authenticate(store, "boss", "s3cret-pass") is not None
        assert authenticate(store, "boss", "wrong") is None


def test_user_add_reads_a_password_file_and_refuses_bad_roles(tmp_path: Path) -> None:
    db, secret = tmp_path / "c.duckdb", tmp_path / "pw"
    secret.write_text("from-a-file\n")
    run("user", "add", "head", "--password-file", str(secret), "--db", str(db))
    with open_store(db) as store:
        assert authenticate(store, "head", "from-a-file") is not None
    bad = CliRunner().invoke(
        app,
        ["user", "add", "x", "--role", "king", "--db", str(db)],
        env={"CALLSCOPE_PASSWORD": "whatever1"},
    )
    assert bad.exit_code != 0
    agent = CliRunner().invoke(
        app,
        ["user", "add", "y", "--role", "agent", "--db", str(db)],
        env={"CALLSCOPE_PASSWORD": "whatever1"},
    )
    assert agent.exit_code != 0


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_token_create_then_revoke(tmp_path: Path, role: str) -> None:
    db = tmp_path / "c.duckdb"
    extra = ["--agent", "101"] if role == "agent" else []
    token = run(
        "token", "create", "crm", "--role", role, *extra, "--days", "30", "--db", str(db)
    ).strip()
    assert token.startswith("cs_")
    with open_store(db) as store:
        who = token_principal(store, token)
        assert who is not None and who.role == role and who.tenant == "default"
    run("token", "revoke", token.split("_")[1], "--db", str(db))
    with open_store(db) as store:
        assert token_principal(store, token) is None
