"""Availability monitoring: record check results, schedule the next check, claim due services, run sweeps.

Claiming is one statement, `UPDATE services SET next_check_at = <lease> WHERE id IN (SELECT … LIMIT n
FOR UPDATE SKIP LOCKED) RETURNING id, url`: on PostgreSQL several workers share the due services
without ever taking the same one; on SQLite the statement is atomic too, and one worker runs.
A sweep (as opposed to a `--worker`) holds the `availability-sweep` lock row so it never runs twice;
a heartbeat thread renews that row while the sweep lives, so the lock of a killed sweep expires within
`lock_seconds` (a minute) while a live sweep keeps it however long it runs.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Agency, AlertEvent, Check, Incident, JobLock, Service, utcnow
from portal.services import agencies as agency_service
from portal.services.health import CLOSE, ESCALATE, OPEN, HealthRules, HealthState, next_state

log = logging.getLogger(__name__)

SWEEP_LOCK = "availability-sweep"


class CheckResultLike(Protocol):
    url: str
    outcome: str
    reason: str
    http_status: int | None
    elapsed_ms: int
    final_url: str | None
    detail: str | None


Checker = Callable[[list[str]], Iterable[CheckResultLike]]


@dataclass(frozen=True)
class MonitorSettings:
    interval_minutes: int = 60
    recheck_minutes: int = 2
    jitter: float = 0.1
    batch_size: int = 200
    lease_minutes: int = 15
    retention_days: int = 30
    lock_seconds: int = 60
    rules: HealthRules = field(default_factory=HealthRules)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MonitorSettings:
        recheck = int(config.get("PORTAL_RECHECK_MINUTES", 2))
        return cls(
            interval_minutes=int(config.get("PORTAL_CHECK_INTERVAL_MINUTES", 60)),
            recheck_minutes=recheck,
            jitter=float(config.get("PORTAL_CHECK_JITTER", 0.1)),
            batch_size=int(config.get("PORTAL_SWEEP_BATCH", 200)),
            lease_minutes=int(config.get("PORTAL_SWEEP_LEASE_MINUTES", 15)),
            retention_days=int(config.get("PORTAL_CHECK_RETENTION_DAYS", 30)),
            lock_seconds=int(config.get("PORTAL_SWEEP_LOCK_SECONDS", 60)),
            rules=HealthRules(recheck_after=timedelta(minutes=recheck)),
        )


# --- locks -------------------------------------------------------------------------------------------

def lock_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lock(session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the named lock (or an expired one) until now + ttl; False when someone else holds it."""
    now = now or utcnow()
    taken = session.execute(
        update(JobLock)
        .where(JobLock.name == name, or_(JobLock.expires_at < now, JobLock.holder == holder))
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
    ).rowcount
    if taken:
        session.commit()
        return True
    try:
        session.execute(insert(JobLock).values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        session.commit()
    except IntegrityError:
        session.rollback()
        held = session.execute(select(JobLock).where(JobLock.name == name)).scalar_one_or_none()
        if held is not None:
            log.info("%s skipped: the lock is held by %s for %ss (expires in %ss)", name, held.holder,
                     round((now - held.acquired_at).total_seconds()), round((held.expires_at - now).total_seconds()))
        session.rollback()
        return False
    return True


def renew_lock(session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    renewed = session.execute(
        update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
        .values(expires_at=(now or utcnow()) + ttl)
    ).rowcount
    session.commit()
    return bool(renewed)


class LockHeartbeat:
    """Renews a lock row every third of its ttl from a thread (and a connection) of its own while the
    holder lives; `lost` turns true when the row was no longer the holder's (taken after expiring)."""

    def __init__(self, session: Session, name: str, holder: str, ttl: timedelta,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.name, self.holder, self.ttl, self.clock = session.get_bind(), name, holder, ttl, clock
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                with Session(self.engine) as session:
                    if not renew_lock(session, self.name, self.holder, self.ttl, self.clock()):
                        self.lost = True
                        log.warning("%s: lock lost by %s (it expired and was taken)", self.name, self.holder)
                        return
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("%s: lock heartbeat failed", self.name, exc_info=True)

    def __enter__(self) -> LockHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def release_lock(session: Session, name: str, holder: str) -> None:
    session.rollback()
    session.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))
    session.commit()


# --- recording ---------------------------------------------------------------------------------------

def _next_regular_check(now: datetime, interval_minutes: int, jitter: float, rng: random.Random | None) -> datetime:
    interval = timedelta(minutes=max(1, interval_minutes))
    spread = (rng or random).uniform(-jitter, jitter) if jitter > 0 else 0.0
    return now + interval * (1 + spread)


def _open_incident(session: Session, service_id: int) -> Incident | None:
    return session.execute(
        select(Incident)
        .where(Incident.service_id == service_id, Incident.ended_at.is_(None))
        .order_by(Incident.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def end_monitoring(session: Session, service: Service, now: datetime | None = None) -> Incident | None:
    """A service leaves monitoring (retired): close its open incident, if any, and forget its health.

    The caller commits. Returns the incident closed."""
    now = now or utcnow()
    incident = _open_incident(session, service.id)
    if incident is not None:
        incident.ended_at = now
        incident.detail = ((incident.detail + " · ") if incident.detail else "") + "service retired"
    service.health, service.health_since, service.health_reason = "unknown", now, None
    service.consecutive_failures = 0
    service.next_check_at = None
    return incident


def log_health_change(service: Service, before: str, after: str, reason: str) -> None:
    """One line per change of health, naming the service, its agency and the reason."""
    fields = {"service_id": service.id, "agency": service.agency.code, "health_from": before, "health_to": after,
              "reason": reason}
    log.log(logging.WARNING if after in ("down", "dead") else logging.INFO,
            "health %s -> %s: service %d %r of agency %s (%s)", before, after, service.id, service.name,
            service.agency.code, reason, extra=fields)


def record_result(
    session: Session,
    service: Service,
    result: CheckResultLike,
    now: datetime | None = None,
    *,
    settings: MonitorSettings | None = None,
    interval_minutes: int | None = None,
    rng: random.Random | None = None,
) -> AlertEvent | None:
    """Store the check, move the health state machine, schedule the next check, keep incidents and
    alert events in step; commits. Returns the alert event raised, if any."""
    now = now or utcnow()
    settings = settings or MonitorSettings()
    session.add(Check(
        service_id=service.id, checked_at=now, outcome=result.outcome, reason=result.reason,
        http_status=result.http_status, elapsed_ms=max(0, int(result.elapsed_ms)),
        final_url=(result.final_url or None) and result.final_url[:2000],
    ))
    before = HealthState(service.health, service.health_since, service.consecutive_failures, service.health_reason)
    step = next_state(before, result.outcome, result.reason, now, settings.rules)
    after = step.after
    service.health, service.health_since = after.health, after.since
    service.consecutive_failures, service.health_reason = after.failures, after.reason
    service.last_checked_at = now
    if after.health != before.health:
        log_health_change(service, before.health, after.health, result.reason)
    if step.recheck_soon:
        service.next_check_at = now + settings.rules.recheck_after
    else:
        if interval_minutes is None:
            interval_minutes = service.agency.check_interval_minutes or settings.interval_minutes
        service.next_check_at = _next_regular_check(now, interval_minutes, settings.jitter, rng)

    detail = (getattr(result, "detail", None) or None) and str(result.detail)[:500]
    incident: Incident | None = None
    if step.incident == OPEN:
        incident = Incident(service_id=service.id, started_at=now, reason=result.reason, state="down", detail=detail)
        session.add(incident)
    elif step.incident in (ESCALATE, CLOSE):
        incident = _open_incident(session, service.id)
        if incident is None and step.incident == ESCALATE:
            incident = Incident(service_id=service.id, started_at=before.since or now, reason=result.reason,
                                detail=detail)
            session.add(incident)
        if incident is not None:
            if step.incident == ESCALATE:
                incident.state = "dead"
            else:
                incident.ended_at = now
    event: AlertEvent | None = None
    if step.alert:
        session.flush()
        event = AlertEvent(service_id=service.id, incident_id=incident.id if incident else None, kind=step.alert,
                           reason=result.reason if step.alert != "recovered" else (incident.reason if incident
                                                                                   else None),
                           created_at=now)
        session.add(event)
    session.commit()
    return event


# --- claiming due services -----------------------------------------------------------------------------

def _agency_ids(session: Session, agency: Agency | None) -> list[int] | None:
    return None if agency is None else agency_service.subunit_ids(session, agency)


def _due_filter(now: datetime, agency_ids: list[int] | None, rechecks_only: bool) -> list[Any]:
    conditions: list[Any] = [
        Service.status == "active",
        or_(Service.next_check_at.is_(None), Service.next_check_at <= now),
    ]
    if agency_ids is not None:
        conditions.append(Service.agency_id.in_(agency_ids))
    if rechecks_only:
        conditions.append(Service.consecutive_failures > 0)
    return conditions


def count_due(session: Session, now: datetime, agency: Agency | None = None, *, rechecks_only: bool = False) -> int:
    conditions = _due_filter(now, _agency_ids(session, agency), rechecks_only)
    return session.execute(select(func.count()).select_from(Service).where(*conditions)).scalar_one()


def due_services(
    session: Session,
    now: datetime,
    agency: Agency | None = None,
    limit: int = 200,
    *,
    lease: timedelta = timedelta(minutes=15),
    rechecks_only: bool = False,
    agency_ids: list[int] | None = None,
) -> list[tuple[int, str]]:
    """Claim up to `limit` due services: their next_check_at moves to now + lease in the same statement
    (PostgreSQL: rows locked by another worker are skipped). Commits; returns (id, url) pairs."""
    if agency_ids is None:
        agency_ids = _agency_ids(session, agency)
    candidates = (
        select(Service.id)
        .where(*_due_filter(now, agency_ids, rechecks_only))
        .order_by(Service.next_check_at.asc().nulls_first(), Service.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    rows = session.execute(
        update(Service)
        .where(Service.id.in_(candidates.scalar_subquery()))
        .values(next_check_at=now + lease)
        .returning(Service.id, Service.url),
        execution_options={"synchronize_session": False},
    ).all()
    session.commit()
    return sorted((row[0], row[1]) for row in rows)


def release_claims(session: Session, service_ids: list[int], due_at: datetime) -> None:
    """Give back services claimed but not checked (a sweep cancelled): due again at `due_at`."""
    session.rollback()
    for start in range(0, len(service_ids), 500):
        chunk = service_ids[start:start + 500]
        session.execute(update(Service).where(Service.id.in_(chunk)).values(next_check_at=due_at),
                        execution_options={"synchronize_session": False})
    session.commit()
    if service_ids:
        log.info("sweep cancelled: %d claimed services given back", len(service_ids))


# --- sweeps --------------------------------------------------------------------------------------------

@dataclass
class SweepReport:
    checked: int = 0
    errors: int = 0
    alerts: int = 0
    locked: bool = False
    cancelled: bool = False
    error_messages: list[str] = field(default_factory=list)

    def note_error(self, message: str, count: int = 1) -> None:
        self.errors += count
        if len(self.error_messages) < 20:
            self.error_messages.append(message)


def run_sweep(
    session: Session,
    checker: Checker,
    *,
    agency: Agency | None = None,
    progress: Callable[[int], None] | None = None,
    settings: MonitorSettings | None = None,
    worker: bool = False,
    rechecks_only: bool = False,
    lock_name: str = SWEEP_LOCK,
    clock: Callable[[], datetime] = utcnow,
    cancel: threading.Event | None = None,
) -> SweepReport:
    """Check every service due when the sweep starts, in claimed batches.

    One failing check never stops the sweep: a checker that raises is retried one URL at a time, and a
    result that cannot be recorded is rolled back and counted. Unless `worker` (PostgreSQL workers share
    the work through SKIP LOCKED), the sweep holds a lock row and returns `locked=True` when another
    sweep is still running. Once `cancel` is set no batch is claimed and the services claimed but not
    checked are due again at once (`cancelled=True`).
    """
    settings = settings or MonitorSettings()
    report = SweepReport()
    holder = lock_holder()
    lock_ttl = timedelta(seconds=settings.lock_seconds)
    if not worker and not acquire_lock(session, lock_name, holder, lock_ttl, clock()):
        report.locked = True
        return report
    heartbeat = LockHeartbeat(session, lock_name, holder, lock_ttl, clock) if not worker else None
    try:
        with heartbeat or nullcontext():
            started = clock()
            agency_ids = _agency_ids(session, agency)
            intervals = dict(session.execute(select(Agency.id, Agency.check_interval_minutes)).all())
            lease = timedelta(minutes=settings.lease_minutes)
            while (heartbeat is None or not heartbeat.lost) and not (cancel is not None and cancel.is_set()):
                batch = due_services(session, started, limit=settings.batch_size, lease=lease,
                                     rechecks_only=rechecks_only, agency_ids=agency_ids)
                if not batch:
                    break
                unchecked = _check_batch(session, checker, batch, intervals, settings, report, progress, clock)
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    release_claims(session, [i for ids in unchecked.values() for i in ids], started)
                    break
                for url, ids in unchecked.items():  # the checker said nothing about these; their lease brings them back
                    report.note_error(f"{url}: no result", len(ids))
                    if progress:
                        progress(len(ids))
    finally:
        if not worker:
            release_lock(session, lock_name, holder)
    return report


def _check_batch(
    session: Session,
    checker: Checker,
    batch: list[tuple[int, str]],
    intervals: dict[int, int],
    settings: MonitorSettings,
    report: SweepReport,
    progress: Callable[[int], None] | None,
    clock: Callable[[], datetime],
) -> dict[str, list[int]]:
    """Check one claimed batch; returns the URLs (and their services) the checker gave no result for."""
    by_url: dict[str, list[int]] = {}
    for service_id, url in batch:
        by_url.setdefault(url, []).append(service_id)
    pending = dict(by_url)

    def record(result: CheckResultLike) -> None:
        for service_id in pending.pop(result.url, []):
            _record_one(session, service_id, result, intervals, settings, report, clock)
            if progress:
                progress(1)

    try:
        for result in checker(list(by_url)):
            record(result)
    except Exception as exc:  # noqa: BLE001 - a broken checker must not end the sweep
        log.warning("checker failed on a batch (%s); checking the rest one by one", exc)
        for url in list(pending):
            try:
                for result in checker([url]):
                    record(result)
            except Exception as one_exc:  # noqa: BLE001
                ids = pending.pop(url, [])
                log.warning("check of %s failed: %s", url, one_exc)
                report.note_error(f"{url}: {type(one_exc).__name__}: {one_exc}", len(ids))
                if progress:
                    progress(len(ids))
    return pending


def _record_one(
    session: Session,
    service_id: int,
    result: CheckResultLike,
    intervals: dict[int, int],
    settings: MonitorSettings,
    report: SweepReport,
    clock: Callable[[], datetime],
) -> None:
    try:
        service = session.get(Service, service_id)
        if service is None:
            return
        event = record_result(session, service, result, clock(), settings=settings,
                              interval_minutes=intervals.get(service.agency_id) or settings.interval_minutes)
        report.checked += 1
        report.alerts += event is not None
    except Exception as exc:  # noqa: BLE001 - one bad record must not end the sweep
        session.rollback()
        log.exception("could not record the check of service %s", service_id)
        report.note_error(f"service {service_id}: {type(exc).__name__}: {exc}")
