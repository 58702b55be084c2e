"""`portal import procedures FILE`: a procedure catalogue (Decision 846/QĐ-TTg by default), all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import click

from portal.extensions import db
from portal.services import procedures
from portal.services.importing import SCOPES


@click.command("procedures")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--catalogue", default=procedures.CATALOGUE_846, show_default=True,
              help="Catalogue name, e.g. qd-846-2017 (Decision 846/QĐ-TTg).")
@click.option("--scope", "default_scope", type=click.Choice(SCOPES), default=None,
              help="Scope of rows whose scope column is blank or missing.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def procedures_command(file: Path, catalogue: str, default_scope: str | None, dry_run: bool) -> None:
    """Import a procedure catalogue from CSV or XLSX (code, name, field, scope, required level[, agency])."""
    plan = procedures.import_catalogue(
        db.session, file.read_bytes(), file.name, catalogue=catalogue, dry_run=dry_run,
        default_scope=default_scope, actor="cli",
    )
    if not plan.ok:
        for err in plan.errors:
            where = f"row {err.row}" if err.row else "file"
            click.echo(f"{where}: {err.field}: {err.message}" if err.field else f"{where}: {err.message}", err=True)
        click.echo(f"{len(plan.errors)} error(s); nothing was imported.", err=True)
        raise SystemExit(1)
    click.echo(
        f"Catalogue {plan.catalogue}: {len(plan.rows)} rows, {len(plan.entries)} entries — "
        f"added {plan.added}, updated {plan.updated}, unchanged {plan.unchanged} "
        f"(procedures: {plan.procedures_added} new, {plan.procedures_updated} changed)."
    )
    if plan.absent:
        click.echo(f"{plan.absent} entries of {plan.catalogue} are not in this file; they were kept.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
