"""`portal serve`: the web server and the scheduler, supervised (portal/serve.py)."""

from __future__ import annotations

import click
from flask import current_app


@click.command("serve")
@click.option("--host", help="Address to listen on (HOST, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (PORT, default 5000).")
@click.option("--workers", type=click.IntRange(1, 64), help="gunicorn workers (WEB_CONCURRENCY, default 2).")
@click.option("--no-scheduler", is_flag=True, help="Serve pages only (as PORTAL_MONITOR=off).")
def serve_command(host: str | None, port: int | None, workers: int | None, no_scheduler: bool) -> None:
    """Serve the portal with gunicorn and run the scheduler beside it, restarting it if it dies.

    Exits 0 on SIGTERM or Ctrl+C; 1 when the database or the port is not available."""
    from portal.serve import serve

    config = current_app.config
    raise SystemExit(serve(
        config["SQLALCHEMY_DATABASE_URI"], host or config["HOST"], port or config["PORT"],
        workers or config["WEB_CONCURRENCY"], scheduler=not no_scheduler and config["PORTAL_MONITOR"] == "on",
    ))
