"""The migrations build the same schema as the models, on an empty SQLite and PostgreSQL database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal.extensions import db
from portal.models import Agency, Service
from portal.models.search import is_search_object
from portal.services.search import ServiceQuery, search_services
from tests.conftest import make_app


@pytest.fixture
def empty_database_url(backend, pg_databases, tmp_path):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    if pg_databases is None:
        pytest.skip("PostgreSQL not reachable (set TEST_POSTGRES_URL)")
    return pg_databases.create()


def test_migrations_on_empty_database_match_models(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_object": lambda obj, name, *a: not is_search_object(name),
            })
            diffs = compare_metadata(context, db.metadata)
        assert diffs == []
        agency = Agency(code="ha-noi", name="Hà Nội", kind="province")
        db.session.add(agency)
        db.session.flush()
        db.session.add(Service(agency_id=agency.id, name="Đăng ký khai sinh", level=4, url="https://x.gov.vn/a"))
        db.session.commit()
        assert [s.name for s in search_services(db.session, ServiceQuery(q="dang ky khai sinh")).items] == [
            "Đăng ký khai sinh"]
        db.session.remove()
        downgrade(revision="base")
        remaining = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
        assert remaining == []
        db.engine.dispose()


def test_upgrading_a_database_with_services_keeps_them_searchable(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0004")
        agency = Agency(code="hue", name="Huế", kind="province")
        db.session.add(agency)
        db.session.flush()
        for i, name in enumerate(["Cấp giấy phép xây dựng", "Cấp giấy phép xây dựng", "Đăng ký khai sinh"]):
            db.session.add(Service(agency_id=agency.id, name=name, level=3, url=f"https://hue.gov.vn/{i}"))
        db.session.commit()
        upgrade()
        page = search_services(db.session, ServiceQuery(q="giay phep xay"))
        assert page.total == 2 and [s.name for s in page.items] == ["Cấp giấy phép xây dựng"] * 2
        db.session.remove()
        downgrade(revision="0004")
        assert "service_names" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_migrations_carry_the_ddl_of_their_own_time():
    """A migration imports no application code but column types, so changing the app never changes history."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = sorted({*root.glob("migrations/versions/*.py"), *root.glob("portal/migrations/versions/*.py")})
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("portal") or name == "portal.models.base", f"{path.name} imports {name}"
