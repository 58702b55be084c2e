"""The `portal` console script: Flask's CLI bound to the app factory."""

from __future__ import annotations

from flask.cli import FlaskGroup

from portal import create_app


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help="Cổng dịch vụ công — management commands.")
    cli.main(prog_name="portal")


if __name__ == "__main__":
    main()
