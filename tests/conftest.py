"""Fixtures `app`, `db`, `client`, `runner`: a fresh database per test, on SQLite and on PostgreSQL.

Database-backed tests run once per backend. PostgreSQL comes from TEST_POSTGRES_URL (default: the local
server, trust auth); when no server answers the PostgreSQL half is skipped with a message — except in CI
(CI=true), where an unreachable server is an error. `--backend sqlite|postgresql` runs only one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db as _db
from portal.services import search

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    """Compile the translation catalogues when the .mo files are missing or older (make does it too)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (Path(__file__).resolve().parent.parent / "portal" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["all", "sqlite", "postgresql"], default="all",
                     help="database backends for database-backed tests")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        if metafunc.definition.get_closest_marker("postgres_only"):
            backends = [b for b in backends if b == "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = [b for b in backends if b == "sqlite"]
        metafunc.parametrize("backend", backends, scope="session")


def _pg_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)


@pytest.fixture(scope="session")
def pg_server() -> str | None:
    """The admin URL of a reachable PostgreSQL server, or None."""
    url = _pg_admin_url()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {url}: {exc}")
        return None
    finally:
        engine.dispose()
    return url


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them at the end of the run."""

    def __init__(self, admin_url: str) -> None:
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.admin_url = sa.make_url(admin_url)
        self.created: list[str] = []

    def create(self) -> str:
        name = f"portal_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases(pg_server: str | None) -> Iterator[PostgresDatabases | None]:
    if pg_server is None:
        yield None
        return
    databases = PostgresDatabases(pg_server)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def pg_schema_url(backend: str, pg_databases: PostgresDatabases | None) -> str | None:
    """One PostgreSQL database per run with the schema created; tests truncate it afterwards."""
    if backend != "postgresql":
        return None
    if pg_databases is None:
        pytest.skip("PostgreSQL not reachable (set TEST_POSTGRES_URL); PostgreSQL half of the suite skipped")
    url = pg_databases.create()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return url


def make_app(database_url: str, **overrides):
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    for key, value in overrides.items():
        setattr(Config, key, value)
    return create_app(Config)


@pytest.fixture
def app(backend: str, pg_schema_url: str | None, tmp_path):
    """The application on a fresh database of the current backend, inside an app context."""
    search.clear_caches()
    if backend == "sqlite":
        application = make_app(f"sqlite:///{tmp_path / 'portal.db'}")
        with application.app_context():
            _db.create_all()
    else:
        application = make_app(pg_schema_url)
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        _db.session.remove()
        if backend == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
            with _db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.engine.dispose()
        ctx.pop()
        search.clear_caches()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(db):
    """The demo data set loaded."""
    from portal.services.seed import seed_demo

    return seed_demo(db.session)


@pytest.fixture
def admin(db):
    """An enabled administrator (tests/helpers.py signs users in)."""
    from tests.helpers import make_user

    return make_user(db, "admin@example.vn", "admin")


@pytest.fixture
def admin_client(client, admin):
    from tests.helpers import sign_in

    sign_in(client, admin)
    return client


@pytest.fixture
def officer(db, agencies):
    """An officer of Hà Nội (the `agencies` fixture of the test's folder provides "ha-noi")."""
    from tests.helpers import make_user

    return make_user(db, "canbo@hanoi.gov.vn", "officer", agencies["ha-noi"])


@pytest.fixture
def officer_client(client, officer):
    from tests.helpers import sign_in

    sign_in(client, officer)
    return client
