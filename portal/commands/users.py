"""`portal users create`: accounts from the command line (the password never as an argument)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.models import ROLES
from portal.services import accounts
from portal.services import agencies as agency_service

users_cli = AppGroup("users", help="Manage portal accounts.")


def _read_password() -> str:
    """The password from stdin when it is not a terminal (one line), otherwise from a hidden prompt."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in address.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="admin or officer.")
@click.option("--agency", "agency_code", help="Agency code (required for an officer).")
def create_user_command(email: str, role: str, agency_code: str | None) -> None:
    """Create an account; the password is read from stdin or prompted for."""
    agency = None
    if agency_code:
        agency = agency_service.get_by_code(db.session, agency_code)
        if agency is None:
            raise click.BadParameter(f"no agency with code {agency_code!r}", param_hint="--agency")
    password = _read_password()
    try:
        user = accounts.create_user(db.session, email=email, role=role, password=password, agency=agency,
                                    actor="cli", min_length=current_app.config["PORTAL_PASSWORD_MIN_LENGTH"])
    except accounts.AccountError as exc:
        for name, message in exc.errors.items():
            click.echo(f"{name or 'error'}: {message}", err=True)
        raise click.exceptions.Exit(1) from exc
    where = f" for {agency.name} ({agency.code})" if agency else ""
    click.echo(f"Created {user.role} {user.email} (#{user.id}){where}.")
