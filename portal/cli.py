"""The `portal` console script: Flask's CLI bound to the app factory."""

from __future__ import annotations

from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError

from config import ConfigError, config_from_env
from portal import create_app, extensions, startup  # noqa: F401 - the app's libraries load before logging is set up (alembic logs at import)


def main() -> None:
    try:
        settings = config_from_env()
    except ConfigError as exc:
        startup.fail(str(exc), startup.CONFIG_ERROR)
    from portal import logs

    logs.configure(settings.PORTAL_LOG_FORMAT)
    cli = FlaskGroup(create_app=create_app, help="Cổng dịch vụ công — management commands.")
    try:
        cli.main(prog_name="portal")
    except DBAPIError:
        problem = startup.database_problem(settings.SQLALCHEMY_DATABASE_URI)
        if problem:
            startup.fail(problem)
        raise


if __name__ == "__main__":
    main()
