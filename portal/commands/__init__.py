"""CLI commands, attached to app.cli by register()."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from portal.commands.seed import seed_cli
    from portal.commands.stats import crawl_stats_command, stats_cli

    app.cli.add_command(seed_cli)
    app.cli.add_command(stats_cli)
    _crawl_group(app).add_command(crawl_stats_command)


def _crawl_group(app: Flask) -> click.Group:
    """The `crawl` group: the one already registered if any, else a new one."""
    group = app.cli.commands.get("crawl")
    if isinstance(group, click.Group):
        return group
    group = AppGroup("crawl", help="Crawl agencies' sites: availability, application figures.")
    app.cli.add_command(group)
    return group
