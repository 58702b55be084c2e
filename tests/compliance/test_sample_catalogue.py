"""The bundled sample catalogue: loaded by `portal seed demo`, marked as sample everywhere, a realistic mix."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from portal.models import AuditLog, CatalogueEntry, Procedure, Service
from portal.services import compliance, procedures
from portal.services.importing import PROCEDURE_CODE_RE, read_table
from portal.services.seed import seed_demo

SAMPLE = procedures.SAMPLE_CATALOGUE


def test_the_sample_file_is_small_marked_and_in_the_national_format():
    rows = read_table(procedures.SAMPLE_FILE.read_bytes(), procedures.SAMPLE_FILE.name)
    assert 20 <= len(rows) <= 40
    assert all(PROCEDURE_CODE_RE.match(str(r["Mã thủ tục"])) for r in rows)
    assert "KHÔNG PHẢI DANH MỤC CHÍNH THỨC" in procedures.SAMPLE_FILE.read_text(encoding="utf-8").splitlines()[0]


def test_demo_loads_it_as_sample_and_links_the_demo_services(db, demo):
    entries = db.session.execute(select(CatalogueEntry).where(CatalogueEntry.catalogue == SAMPLE)).scalars().all()
    assert len(entries) == demo["catalogue_entries"] == 39 and all(e.is_sample for e in entries)
    assert {e.scope for e in entries} == {"ministry", "province"}
    linked = db.session.execute(select(Service).where(Service.procedure_id.is_not(None))).scalars().all()
    assert len(linked) > 100 and all(s.is_sample for s in linked)
    assert procedures.default_catalogue(db.session) == SAMPLE


def test_the_demo_matrix_shows_every_state(db, demo):
    for kind in ("province", "ministry"):
        m = compliance.matrix(db.session, SAMPLE, kind)
        states = {c.state for row in m.rows for c in row.cells}
        assert {"online", "lower_level", "missing"} <= states, kind
        shares = {r.value for r in m.ranking}
        assert len(shares) > 2, kind  # not every agency alike
    provinces = compliance.ranking(db.session, SAMPLE, "province")
    assert len(provinces) == 34  # today's provinces only


def test_sample_is_said_on_the_page_in_the_api_and_in_open_data(client, demo):
    page = client.get("/compliance").get_data(as_text=True)
    assert "Dữ liệu mẫu." in page and "không phải danh mục chính thức" in page
    assert client.get("/api/v1/compliance").get_json()["catalogue"]["is_sample"] is True
    assert all(i["is_sample"] for i in client.get("/api/v1/procedures").get_json()["items"])
    text = client.get(f"/open-data/procedures.csv?catalogue={SAMPLE}").get_data(as_text=True)
    assert {r["is_sample"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))} == {"true"}
    assert "Dữ liệu mẫu." in client.get("/compliance/bo-tai-chinh").get_data(as_text=True)


def test_seeding_again_changes_nothing(db, demo):
    def snapshot():
        return (
            db.session.execute(select(func.count()).select_from(Procedure)).scalar_one(),
            db.session.execute(select(func.count()).select_from(CatalogueEntry)).scalar_one(),
            db.session.execute(select(func.count()).select_from(Service)).scalar_one(),
            db.session.execute(select(func.count()).where(Service.procedure_id.is_not(None))).scalar_one(),
            db.session.execute(select(func.count()).select_from(AuditLog)).scalar_one(),
        )

    before = snapshot()
    again = seed_demo(db.session)
    assert again["services_added"] == 0
    assert snapshot() == before
