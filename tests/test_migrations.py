"""The migrations build the same schema as the models, on an empty SQLite and PostgreSQL database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal.extensions import db
from portal.models import Agency, Service, utcnow
from portal.models.search import is_search_object
from portal.services.search import ServiceQuery, search_services
from portal.text import fold, lower_nfc
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


def _insert_old_service(agency_id: int, name: str, url: str, status: str = "active") -> None:
    """A service row as the schema before 0006 holds it (no url_key), with its search forms."""
    db.session.execute(text(
        "INSERT INTO services (agency_id, name, name_lower, name_folded, level, url, status, is_sample, health, "
        "consecutive_failures, created_at, updated_at) VALUES (:a, :n, :l, :f, 3, :u, :s, false, 'unknown', 0, "
        ":t, :t)"), {"a": agency_id, "n": name, "l": lower_nfc(name), "f": fold(name), "u": url, "s": status,
                     "t": utcnow()})


def test_upgrading_a_database_with_services_keeps_them_searchable(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0004")
        agency = Agency(code="hue", name="Huế", kind="province")
        db.session.add(agency)
        db.session.flush()
        for i, name in enumerate(["Cấp giấy phép xây dựng", "Cấp giấy phép xây dựng", "Đăng ký khai sinh"]):
            _insert_old_service(agency.id, name, f"https://hue.gov.vn/{i}")
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


def test_0006_keys_existing_addresses_and_reports_duplicates_without_dropping_any(empty_database_url, capfd):
    from portal.services.doctor import integrity_problems

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0005")
        agency = Agency(code="hue", name="Huế", kind="province")
        other = Agency(code="hanoi", name="Hà Nội", kind="province")
        db.session.add_all([agency, other])
        db.session.flush()
        for url, status in [("https://dvc.hue.gov.vn/a/", "retired"), ("HTTPS://DVC.Hue.gov.vn:443/a", "active"),
                            ("https://dvc.hue.gov.vn/a#/b", "active"), ("https://dvc.hue.gov.vn/c", "active")]:
            _insert_old_service(agency.id, "Dịch vụ", url, status)
        _insert_old_service(other.id, "Dịch vụ", "https://dvc.hue.gov.vn/a", "active")
        db.session.commit()
        ids = db.session.execute(text("SELECT id FROM services ORDER BY id")).scalars().all()
        db.session.commit()
        upgrade()
        report = capfd.readouterr().err
        assert "1 address(es) registered more than once" in report
        assert f"https://dvc.hue.gov.vn/a — services #{ids[1]}, #{ids[0]} (#{ids[1]} keeps it)" in report
        keys = dict(db.session.execute(text("SELECT id, url_key FROM services")).all())
        assert len(keys) == 5
        assert keys[ids[1]] == keys[ids[4]] == "https://dvc.hue.gov.vn/a"
        assert keys[ids[0]] == f"duplicate {ids[0]}: https://dvc.hue.gov.vn/a"
        assert keys[ids[2]] == "https://dvc.hue.gov.vn/a#/b"
        db.session.commit()
        problems = integrity_problems(db.session)
        assert [p.kind for p in problems] == ["duplicate-address"]
        assert f"#{ids[0]} (retired)" in problems[0].message and f"#{ids[1]} (active)" in problems[0].message
        db.session.remove()
        downgrade(revision="0005")
        assert "url_key" not in {c["name"] for c in inspect(db.engine).get_columns("services")}
        db.engine.dispose()


def _page_index(engine) -> tuple[list[str], list[str]]:
    index = next(i for i in inspect(engine).get_indexes("services") if i["name"] == "ix_services_active_name")
    return index["column_names"], index.get("include_columns") or index.get("dialect_options", {}).get(
        "postgresql_include", [])


def test_the_results_page_reads_its_services_from_the_names_index_alone(empty_database_url, backend, tmp_path):
    """Migrated or built from the models, the index on active names holds every column the page shows."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        migrated = _page_index(db.engine)
        db.session.remove()
        downgrade(revision="0011")
        assert _page_index(db.engine) == (["name", "id"], [])
        db.engine.dispose()
    shown = ["level", "health", "is_sample", "agency_id"]
    assert migrated == ((["name", "id"], shown) if backend == "postgresql" else (["name", "id", *shown], []))
    if backend == "sqlite":
        built = make_app(f"sqlite:///{tmp_path / 'built.db'}")
        with built.app_context():
            db.create_all()
            assert _page_index(db.engine) == migrated
            db.engine.dispose()
