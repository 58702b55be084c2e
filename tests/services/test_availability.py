"""Daily roll-ups, retention of raw checks and uptime read from roll-ups plus today's checks."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from portal.models import Check, DailyRollup
from portal.services import availability, jobs
from tests.monitoring_helpers import make_agency, make_services

NOW = datetime(2025, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam
TODAY = date(2025, 3, 10)


def add_checks(db, service, day, outcomes, elapsed=None):
    start, _ = availability.day_bounds(day)
    for i, outcome in enumerate(outcomes):
        reason = {"up": "ok", "degraded": "slow", "down": "timeout"}[outcome]
        db.session.add(Check(service_id=service.id, checked_at=start + timedelta(minutes=15 * i), outcome=outcome,
                             reason=reason, elapsed_ms=(elapsed or [100 * (i + 1) for i in range(len(outcomes))])[i]))
    db.session.commit()


def test_day_bounds_are_vietnamese_days():
    start, end = availability.day_bounds(date(2025, 3, 10))
    assert start == datetime(2025, 3, 9, 17, 0, tzinfo=UTC) and end - start == timedelta(days=1)
    assert availability.local_day(datetime(2025, 3, 9, 17, 30, tzinfo=UTC)) == date(2025, 3, 10)


def test_rollup_day_counts_percentiles_and_is_idempotent(db):
    agency = make_agency(db.session)
    a, b = make_services(db.session, agency, 2)
    day = TODAY - timedelta(days=1)
    add_checks(db, a, day, ["up"] * 17 + ["degraded"] * 2 + ["down"])
    add_checks(db, b, day, ["down", "down"], elapsed=[5000, 7000])
    add_checks(db, a, TODAY, ["down"])  # another day: not counted
    assert availability.rollup_day(db.session, day) == 2
    assert availability.rollup_day(db.session, day) == 2
    rows = {r.service_id: r for r in db.session.execute(select(DailyRollup)).scalars()}
    assert len(rows) == 2
    ra = rows[a.id]
    assert (ra.checks, ra.up, ra.degraded, ra.down) == (20, 17, 2, 1)
    assert ra.reasons == {"ok": 17, "slow": 2, "timeout": 1}
    assert (ra.p50_ms, ra.p95_ms) == (1000, 1900)  # nearest rank of 100..2000
    assert (rows[b.id].p50_ms, rows[b.id].p95_ms) == (5000, 7000)


def test_purge_keeps_the_retention_window(db):
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    for days_ago in (40, 31, 29, 1):
        db.session.add(Check(service_id=service.id, checked_at=NOW - timedelta(days=days_ago), outcome="up",
                             reason="ok", elapsed_ms=10))
    db.session.commit()
    assert availability.purge_checks(db.session, 30, NOW, batch=1) == 2
    left = db.session.execute(select(func.count()).select_from(Check)).scalar_one()
    assert left == 2
    assert jobs.purge(db.session, {"PORTAL_CHECK_RETENTION_DAYS": 2}, NOW) == 1


def test_uptime_reads_rollups_plus_todays_checks(db):
    agency = make_agency(db.session)
    service, quiet = make_services(db.session, agency, 2)
    # 90 days of roll-ups only (raw checks already purged): 80 perfect days, 10 days at 50 %
    for n in range(1, 91):
        good = 96 if n > 10 else 48
        db.session.add(DailyRollup(service_id=service.id, day=TODAY - timedelta(days=n), checks=96, up=good,
                                   degraded=0, down=96 - good, reasons={}))
    db.session.commit()
    add_checks(db, service, TODAY, ["up", "up", "down", "degraded"])  # today so far: 3 of 4 working
    uptime = availability.uptime_summary(db.session, service, NOW)
    assert uptime["24h"] == 75.0
    assert uptime["7d"] == round(100 * (6 * 48 + 3) / (6 * 96 + 4), 2)
    assert uptime["30d"] == round(100 * (10 * 48 + 19 * 96 + 3) / (29 * 96 + 4), 2)
    assert uptime["90d"] == round(100 * (10 * 48 + 79 * 96 + 3) / (89 * 96 + 4), 2)
    assert availability.uptime_summary(db.session, quiet, NOW) == {"24h": None, "7d": None, "30d": None,
                                                                  "90d": None}


def test_daily_availability_has_ninety_cells(db):
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    db.session.add(DailyRollup(service_id=service.id, day=TODAY - timedelta(days=3), checks=10, up=9, degraded=0,
                               down=1, reasons={}))
    db.session.commit()
    add_checks(db, service, TODAY, ["up"])
    days = availability.daily_availability(db.session, service, now=NOW)
    assert len(days) == 90 and days[0].day == TODAY - timedelta(days=89) and days[-1].day == TODAY
    assert days[-1].uptime == 100.0 and days[-1].grade == "good"
    assert days[-4].uptime == 90.0 and days[-4].grade == "poor"
    assert days[-2].uptime is None and days[-2].grade == "none"


def test_daily_rollup_job_rolls_yesterday(db):
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    add_checks(db, service, TODAY - timedelta(days=1), ["up", "down"])
    assert jobs.daily_rollup(db.session, NOW) == {"2025-03-09": 1, "2025-03-08": 0}
    assert db.session.execute(select(DailyRollup.checks)).scalar_one() == 2
