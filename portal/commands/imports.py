"""`portal import …`: bulk imports from CSV or XLSX files (all-or-nothing)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import bulk_import, importing, report_imports

import_cli = AppGroup("import", help="Import services, report figures or catalogues from CSV/XLSX files.")

FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > importing.MAX_IMPORT_BYTES:
        click.echo(f"row 0: file: {path.name} is {size / 1024 / 1024:.1f} MB; the limit is "
                   f"{importing.MAX_IMPORT_BYTES // 1024 // 1024} MB", err=True)
        raise click.exceptions.Exit(1)
    return path.read_bytes()


def _report(outcome: bulk_import.ImportOutcome) -> None:
    """Row errors as `row N: field: message` (exit 1), or the summary of what was (or would be) done."""
    if not outcome.ok:
        for error in outcome.errors:
            click.echo(f"row {error.row}: {error.field or 'file'}: {error.message}", err=True)
        click.echo(f"{outcome.filename}: rejected, {len(outcome.errors)} error(s); nothing was written.", err=True)
        raise click.exceptions.Exit(1)
    summary = outcome.summary()
    line = f"added: {summary['added']}, updated: {summary['updated']}, unchanged: {summary['unchanged']}"
    if outcome.dry_run:
        line += " (dry run: nothing was written)"
    click.echo(line)
    if outcome.skipped:
        click.echo(f"skipped: rows {', '.join(map(str, outcome.skipped))} (signature and footer lines under the table)")
    if outcome.counts_ignored:
        click.echo(f"application counts of {outcome.counts_ignored} row(s) not stored: give --period to keep them",
                   err=True)


@import_cli.command("services")
@click.argument("file", type=FILE)
@click.option("--agency", "agency_code", help="Agency code for rows without a 'Mã cơ quan' column.")
@click.option("--period", help="Period of the application counts (2017 or 2017-Q3); without it they are not stored.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def import_services_command(file: Path, agency_code: str | None, period: str | None, dry_run: bool) -> None:
    """Import an agency's services from the reporting template (CSV or XLSX): every row or none."""
    outcome = bulk_import.import_services(
        db.session, _read(file), file.name, default_agency=agency_code, actor="cli", period=period,
        allow_private=bool(current_app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"]), dry_run=dry_run,
    )
    _report(outcome)


@import_cli.command("report")
@click.argument("file", type=FILE)
@click.option("--period", required=True, help="Period of the figures: 2016 or 2018-Q1.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def import_report_command(file: Path, period: str, dry_run: bool) -> None:
    """Import official per-agency figures (columns as in report_2016.csv): every row or none."""
    outcome = report_imports.import_report(db.session, _read(file), file.name, period=period, actor="cli",
                                        dry_run=dry_run)
    _report(outcome)


@import_cli.command("quarterly")
@click.argument("file", type=FILE)
@click.option("--period", help="The quarter (2026-Q3, Quý III/2026); by default the one the file's title names.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def import_quarterly_command(file: Path, period: str | None, dry_run: bool) -> None:
    """Import agencies' quarterly reports from the table /admin/reports/<period>.xlsx exports: every row or none."""
    outcome = report_imports.import_quarterly(db.session, _read(file), file.name, period=period, actor="cli",
                                           dry_run=dry_run)
    _report(outcome)
