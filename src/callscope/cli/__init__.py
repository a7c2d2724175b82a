"""The `callscope` command: each command opens the store and calls one library function.

Library errors (CallscopeError) become one line on stderr and a non-zero exit, never a traceback.
Each module below registers its commands on the shared Typer `app` when imported.
"""

from __future__ import annotations

import sys

from callscope.cli import live as _live  # noqa: F401  (registers listen, outbox, digest)
from callscope.cli import logs as _logs  # noqa: F401  (registers import, calls, rejects)
from callscope.cli import report as _report  # noqa: F401  (registers report)
from callscope.cli import simulate as _simulate  # noqa: F401  (registers simulate, demo)
from callscope.cli import web as _web  # noqa: F401  (registers serve, user, token)
from callscope.cli.common import app, err
from callscope.errors import CallscopeError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except CallscopeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
