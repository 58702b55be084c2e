"""CLI commands, attached to app.cli by register()."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    from portal.commands.check import check_command
    from portal.commands.crawl import crawl_cli
    from portal.commands.doctor import doctor_command
    from portal.commands.imports import import_cli
    from portal.commands.procedures import procedures_command
    from portal.commands.scheduler import scheduler_command
    from portal.commands.search import search_cli
    from portal.commands.seed import seed_cli
    from portal.commands.serve import serve_command
    from portal.commands.stats import crawl_stats_command, stats_cli
    from portal.commands.users import users_cli

    app.cli.add_command(seed_cli)
    import_cli.add_command(procedures_command)
    app.cli.add_command(import_cli)
    app.cli.add_command(check_command)
    app.cli.add_command(stats_cli)
    crawl_cli.add_command(crawl_stats_command)
    app.cli.add_command(crawl_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(serve_command)
