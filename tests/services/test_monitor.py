"""Recording checks, incidents, claiming due services, sweeps and their locks, on SQLite and PostgreSQL."""

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from portal.models import AlertEvent, Check, Incident, JobLock, Service
from portal.services import monitor, sweeps
from tests.conftest import make_app
from tests.monitoring_helpers import FakeChecker, make_agency, make_services, result

T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
SETTINGS = monitor.MonitorSettings(jitter=0.0)


def incidents(db, service):
    return db.session.execute(select(Incident).where(Incident.service_id == service.id)
                              .order_by(Incident.started_at)).scalars().all()


def test_record_result_stores_check_and_schedules_next(db):
    agency = make_agency(db.session, interval=30)
    (service,) = make_services(db.session, agency, 1)
    event = monitor.record_result(db.session, service, result(service.url, "ok", 250), T0, settings=SETTINGS)
    assert event is None
    check = db.session.execute(select(Check)).scalar_one()
    assert (check.outcome, check.reason, check.elapsed_ms, check.http_status) == ("up", "ok", 250, 200)
    assert service.health == "up" and service.health_since == T0 and service.last_checked_at == T0
    assert service.next_check_at == T0 + timedelta(minutes=30)


def test_jitter_spreads_next_checks(db):
    agency = make_agency(db.session, interval=60)
    services = make_services(db.session, agency, 20)
    jittered = monitor.MonitorSettings(jitter=0.1)
    for s in services:
        monitor.record_result(db.session, s, result(s.url), T0, settings=jittered)
    delays = {s.next_check_at - T0 for s in services}
    assert len(delays) > 1
    assert all(timedelta(minutes=54) <= d <= timedelta(minutes=66) for d in delays)


def test_failure_is_rechecked_soon_then_down_opens_incident_and_recovery_closes_it(db):
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    monitor.record_result(db.session, service, result(service.url, "ok"), T0, settings=SETTINGS)

    t1 = T0 + timedelta(hours=1)
    assert monitor.record_result(db.session, service, result(service.url, "timeout"), t1, settings=SETTINGS) is None
    assert service.health == "up" and service.consecutive_failures == 1
    assert service.next_check_at == t1 + timedelta(minutes=2)
    assert incidents(db, service) == []

    t2 = t1 + timedelta(minutes=2)
    event = monitor.record_result(db.session, service, result(service.url, "timeout"), t2, settings=SETTINGS)
    assert service.health == "down" and service.health_since == t2 and service.health_reason == "timeout"
    (incident,) = incidents(db, service)
    assert (incident.started_at, incident.ended_at, incident.reason, incident.state) == (t2, None, "timeout", "down")
    assert event.kind == "down" and event.incident_id == incident.id

    t3 = t2 + timedelta(days=7)
    event = monitor.record_result(db.session, service, result(service.url, "http_error"), t3, settings=SETTINGS)
    assert service.health == "dead" and event.kind == "dead"
    (incident,) = incidents(db, service)
    assert incident.state == "dead" and incident.ended_at is None and incident.reason == "timeout"

    t4 = t3 + timedelta(hours=1)
    event = monitor.record_result(db.session, service, result(service.url, "ok"), t4, settings=SETTINGS)
    assert service.health == "up" and service.consecutive_failures == 0
    (incident,) = incidents(db, service)
    assert incident.ended_at == t4
    assert event.kind == "recovered"
    kinds = db.session.execute(select(AlertEvent.kind).order_by(AlertEvent.id)).scalars().all()
    assert kinds == ["down", "dead", "recovered"]


def test_challenge_is_degraded_not_a_failure(db):
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    for minute in range(3):
        monitor.record_result(db.session, service, result(service.url, "challenge", status=429),
                              T0 + timedelta(minutes=minute), settings=SETTINGS)
    assert service.health == "degraded" and service.consecutive_failures == 0
    assert incidents(db, service) == []


def test_due_services_claims_with_a_lease(db):
    agency = make_agency(db.session)
    other = make_agency(db.session, code="bo-thu", name="Bộ Thử", kind="ministry")
    services = make_services(db.session, agency, 5)
    make_services(db.session, other, 2, prefix="https://bo.example.gov.vn/")
    services[0].next_check_at = T0 + timedelta(hours=1)  # not due
    services[1].status = "retired"
    db.session.commit()
    claimed = monitor.due_services(db.session, T0, agency=agency, limit=10, lease=timedelta(minutes=15))
    assert [sid for sid, _ in claimed] == [s.id for s in services[2:]]
    assert monitor.due_services(db.session, T0, agency=agency) == []  # leased
    db.session.expire_all()
    assert db.session.get(Service, services[2].id).next_check_at == T0 + timedelta(minutes=15)
    assert len(monitor.due_services(db.session, T0 + timedelta(minutes=16), agency=agency)) == 3
    assert len(monitor.due_services(db.session, T0, limit=1)) == 1  # the other agency, one at a time


def test_sweep_checks_all_due_and_continues_after_one_check_raises(db):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 12)
    bad = services[4].url
    checker = FakeChecker(reason_for=lambda url: "timeout" if url.endswith("7") else "ok", raise_for=[bad])
    progress = []
    report = sweeps.run_sweep(db.session, checker, settings=monitor.MonitorSettings(batch_size=5),
                               progress=progress.append)
    assert report.checked == 11 and report.errors == 1 and not report.locked
    assert sum(progress) == 12
    assert "exploded" in report.error_messages[0]
    db.session.expire_all()
    healths = {s.url: s.health for s in db.session.execute(select(Service)).scalars()}
    assert healths[bad] == "unknown"
    assert sum(1 for h in healths.values() if h == "up") == 10
    assert db.session.execute(select(func.count()).select_from(Check)).scalar_one() == 11
    # the service whose check raised keeps its lease and comes back later; nothing else is due now
    assert sweeps.run_sweep(db.session, checker).checked == 0
    assert db.session.execute(select(func.count()).select_from(JobLock)).scalar_one() == 0


def test_sweep_continues_when_recording_fails(db, monkeypatch):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 4)
    original = monitor.record_result

    def flaky(session, service, res, now=None, **kw):
        if service.id == services[1].id:
            raise RuntimeError("disk full")
        return original(session, service, res, now, **kw)

    monkeypatch.setattr(sweeps, "record_result", flaky)  # what the sweep records with
    report = sweeps.run_sweep(db.session, FakeChecker())
    assert (report.checked, report.errors) == (4, 0)  # nothing to record one by one: the chunk went in whole

    class Garbled(FakeChecker):  # a result the state machine refuses: its chunk is recorded one by one
        def __call__(self, urls):
            for res in super().__call__(urls):
                yield dataclasses.replace(res, outcome="weird") if res.url == services[2].url else res

    db.session.execute(update(Service).values(next_check_at=None))
    db.session.commit()
    report = sweeps.run_sweep(db.session, Garbled())
    assert (report.checked, report.errors) == (2, 2)
    assert "disk full" in " ".join(report.error_messages) and "weird" in " ".join(report.error_messages)


def test_a_running_sweep_is_not_started_twice(db):
    agency = make_agency(db.session)
    make_services(db.session, agency, 3)
    assert monitor.acquire_lock(db.session, monitor.SWEEP_LOCK, "someone-else", timedelta(minutes=15))
    checker = FakeChecker()
    report = sweeps.run_sweep(db.session, checker)
    assert report.locked and checker.calls == []
    # an expired lock (a crashed sweep) is taken over
    db.session.execute(JobLock.__table__.update().values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    assert sweeps.run_sweep(db.session, checker).checked == 3


def test_lock_is_exclusive_until_released(db):
    assert monitor.acquire_lock(db.session, "job", "a", timedelta(minutes=5))
    assert not monitor.acquire_lock(db.session, "job", "b", timedelta(minutes=5))
    assert monitor.acquire_lock(db.session, "job", "a", timedelta(minutes=5))  # re-entrant for its holder
    monitor.release_lock(db.session, "job", "a")
    assert monitor.acquire_lock(db.session, "job", "b", timedelta(minutes=5))


def test_rechecks_only_sweep(db):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 3)
    services[0].consecutive_failures = 1
    db.session.commit()
    checker = FakeChecker()
    assert sweeps.run_sweep(db.session, checker, rechecks_only=True, lock_name="recheck").checked == 1
    assert checker.checked == [services[0].url]


@pytest.mark.postgres_only
def test_two_workers_share_due_services_without_checking_any_twice(app, db):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 300)
    url = str(db.engine.url.render_as_string(hide_password=False))
    checked: list[str] = []
    per_worker: dict[int, int] = {}
    guard = threading.Lock()
    start = threading.Barrier(2)

    def worker(worker_app):
        with worker_app.app_context():
            from portal.extensions import db as wdb

            def checker(urls):
                for u in urls:
                    time.sleep(0.002)
                    with guard:
                        checked.append(u)
                        per_worker[threading.get_ident()] = per_worker.get(threading.get_ident(), 0) + 1
                    yield result(u)

            start.wait()
            sweeps.run_sweep(wdb.session, checker, worker=True, settings=monitor.MonitorSettings(batch_size=7))
            wdb.session.remove()
            wdb.engine.dispose()

    # The apps are built here, one after the other: CPython 3.11 before 3.11.8 can fail to compile in two
    # threads at once ("AST constructor recursion depth mismatch", gh-106905), which routing does.
    threads = [threading.Thread(target=worker, args=(make_app(url),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(checked) == sorted(s.url for s in services)
    assert len(checked) == len(set(checked))
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker.values())
    counts = db.session.execute(select(Check.service_id, func.count()).group_by(Check.service_id)).all()
    assert len(counts) == 300 and all(n == 1 for _, n in counts)
