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
