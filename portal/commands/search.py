"""`portal search rebuild`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.models.search import rebuild_search_objects

search_cli = AppGroup("search", help="Maintain the text-search index.")


@search_cli.command("rebuild")
def search_rebuild_command() -> None:
    """Recompute the text-search index from the services table (after changes made without triggers)."""
    with db.engine.begin() as connection:
        rebuild_search_objects(connection)
    click.echo(f"Search index rebuilt ({db.engine.dialect.name}).")
