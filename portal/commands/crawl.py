"""`portal crawl availability` — one sweep over the due services, with a progress bar on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.models import utcnow
from portal.services import agencies as agency_service
from portal.services import jobs, monitor

crawl_cli = AppGroup("crawl", help="Crawl the registered services.")

# Tests replace this factory to check with fakes instead of the network.
checker_factory: Callable[[dict], monitor.Checker] = jobs.real_checker


@crawl_cli.command("availability")
@click.option("--agency", "agency_code", help="Only this agency (and its sub-units), by code.")
@click.option("--worker", is_flag=True,
              help="Share the sweep with other workers (PostgreSQL, SKIP LOCKED) instead of taking the sweep lock.")
def availability_command(agency_code: str | None, worker: bool) -> None:
    """Check every service that is due now, once."""
    agency = None
    if agency_code:
        agency = agency_service.get_by_code(db.session, agency_code)
        if agency is None:
            raise click.BadParameter(f"unknown agency code {agency_code!r}", param_hint="--agency")
    if worker and db.engine.dialect.name == "sqlite":
        click.echo("SQLite runs one worker: taking the sweep lock instead.", err=True)
        worker = False
    total = monitor.count_due(db.session, utcnow(), agency)
    with click.progressbar(length=total, label="Checking", file=sys.stderr, show_pos=True) as bar:
        report = jobs.sweep(db.session, current_app.config, checker_factory(current_app.config), agency=agency,
                            worker=worker, progress=bar.update)
    if report.locked:
        click.echo("Another sweep is still running; not started.", err=True)
        sys.exit(1)
    click.echo(f"Checked {report.checked} services; {report.errors} errors; {report.alerts} alerts.")
    if report.inferred or report.throttled_hosts:
        click.echo(f"{report.inferred} failures inferred from their host; {report.throttled_hosts} hosts throttled.")
    if report.monitor_fault:
        click.echo(f"Monitor fault #{report.monitor_fault}: the monitor could not reach the network; "
                   "what failed during it moved no health state.", err=True)
    for message in report.error_messages:
        click.echo(f"  {message}", err=True)
