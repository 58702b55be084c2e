"""`portal doctor`: list integrity problems of the database (read-only)."""

from __future__ import annotations

import click

from portal.extensions import db
from portal.services.doctor import integrity_problems


@click.command("doctor")
def doctor_command() -> None:
    """List integrity problems (e.g. one address registered twice by an agency); exit 1 when there are any."""
    problems = integrity_problems(db.session)
    for problem in problems:
        click.echo(f"{problem.kind}: {problem.message}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found; nothing was changed.", err=True)
        raise click.exceptions.Exit(1)
    click.echo("No integrity problems found.")
