import csv
from pathlib import Path

from sqlalchemy import func, select

from portal.models import Agency, ReportFigure, Service
from portal.services.seed import seed_demo

SHARED = Path(__file__).resolve().parent.parent / "portal" / "data"


def test_demo_loads_every_agency_with_its_code(db, demo):
    codes = {row["code"] for row in csv.DictReader((SHARED / "agencies.csv").open(encoding="utf-8"))}
    assert len(codes) == 93
    stored = set(db.session.execute(select(Agency.code)).scalars())
    assert codes <= stored
    assert db.session.execute(select(func.count()).select_from(ReportFigure)).scalar_one() == 90


def test_demo_is_idempotent(db, demo):
    before = db.session.execute(select(func.count()).select_from(Service)).scalar_one()
    again = seed_demo(db.session)
    assert again["services_added"] == 0
    assert db.session.execute(select(func.count()).select_from(Service)).scalar_one() == before
    assert before >= 300


def test_real_social_security_services_are_not_marked_sample(db, demo):
    bhxh = db.session.execute(select(Agency).where(Agency.code == "bao-hiem-xa-hoi-viet-nam")).scalar_one()
    services = db.session.execute(select(Service).where(Service.agency_id == bhxh.id)).scalars().all()
    assert len(services) == 14
    assert not any(s.is_sample for s in services)
    others = db.session.execute(select(Service).where(Service.agency_id != bhxh.id)).scalars().all()
    assert others and all(s.is_sample for s in others)


def test_reorganisation_2025_is_recorded(db, demo):
    ha_giang = db.session.execute(select(Agency).where(Agency.code == "ha-giang")).scalar_one()
    assert ha_giang.successor.code == "tuyen-quang"
    assert not ha_giang.is_current()
    assert ha_giang.successor.is_current()
    mpi = db.session.execute(select(Agency).where(Agency.code == "bo-ke-hoach-va-dau-tu")).scalar_one()
    assert mpi.successor.code == "bo-tai-chinh"
    new = db.session.execute(select(Agency).where(Agency.code == "bo-nong-nghiep-va-moi-truong")).scalar_one()
    assert new.is_current() and new.kind == "ministry"


def test_2016_totals_match_the_report(db, demo):
    rows = db.session.execute(
        select(Agency.kind, func.sum(ReportFigure.services_l3), func.sum(ReportFigure.services_l4))
        .join(ReportFigure.agency).group_by(Agency.kind)
    ).all()
    totals = {kind: (l3, l4) for kind, l3, l4 in rows}
    assert totals["province"] == (10309, 1100)



def test_seed_agencies_loads_the_directory_alone(runner, db):
    first = runner.invoke(args=["seed", "agencies"])
    assert first.exit_code == 0, first.output
    assert runner.invoke(args=["seed", "agencies"]).output == first.output
    total = db.session.execute(select(func.count()).select_from(Agency)).scalar_one()
    former = db.session.execute(select(func.count()).select_from(Agency).where(Agency.valid_to.is_not(None)))
    assert total > 93
    assert first.output == f"Agencies: {total} ({total - former.scalar_one()} current).\n"
    assert db.session.execute(select(func.count()).select_from(Service)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(ReportFigure)).scalar_one() == 0
