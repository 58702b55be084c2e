"""Start-up checks that end in one line naming the problem and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import sys
from typing import NoReturn

import sqlalchemy as sa

CONFIG_ERROR = 2  # a setting cannot be used
START_ERROR = 1  # the database or the port is not available


def fail(message: str, status: int = START_ERROR) -> NoReturn:
    print(f"portal: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def database_where(url: str) -> str:
    """host:port of a server database, the file of SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    port = parsed.port or {"postgresql": 5432}.get(parsed.get_backend_name(), "")
    return f"{parsed.host or 'localhost'}:{port}"


def database_problem(url: str, timeout: int = 5) -> str | None:
    """None when the database answers `SELECT 1`, else one line saying where it was looked for and why."""
    connect_args = {"connect_timeout": timeout} if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - every failure is reported the same way, as one line
        cause = getattr(exc, "orig", None) or exc
        reason = " ".join(str(cause).split()) or type(cause).__name__
        return f"cannot reach the database at {database_where(url)}: {reason}"
    finally:
        engine.dispose()
    return None


def require_database(url: str) -> None:
    problem = database_problem(url)
    if problem:
        fail(problem)


def port_problem(host: str, port: int) -> str | None:
    """None when host:port can be bound now, else why not (in use, no such address, no permission)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return f"cannot listen on {host}:{port} (PORT): {exc.strerror or exc}"
    return None
