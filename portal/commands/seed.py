"""`portal seed agencies`, `portal seed demo` and `portal seed synthetic`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import seed

seed_cli = AppGroup("seed", help="Load demo or synthetic data.")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Load agencies, the 2016 report figures and sample services (idempotent)."""
    result = seed.seed_demo(db.session)
    click.echo(
        f"Agencies: {result['agencies']}, report figures: {result['report_figures']}, "
        f"services added: {result['services_added']} (total {result['services']})."
    )


@seed_cli.command("agencies")
def seed_agencies_command() -> None:
    """Load the agency directory alone: ministries, provinces and the 2025 reorganisation (idempotent)."""
    result = seed.seed_agencies(db.session)
    click.echo(f"Agencies: {result['agencies']} ({result['current']} current).")


@seed_cli.command("synthetic")
@click.option("--services", "count", type=click.IntRange(1, 5_000_000), required=True, help="How many to add.")
@click.option("--seed", "rng_seed", type=int, default=2016, show_default=True)
def seed_synthetic_command(count: int, rng_seed: int) -> None:
    """Add N synthetic services for benchmarks (agencies are loaded first if missing)."""
    added = seed.seed_synthetic(db.session, count, seed=rng_seed)
    click.echo(f"Added {added} synthetic services.")
