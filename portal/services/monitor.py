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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Agency, AlertEvent, Check, Incident, JobLock, MonitorFault, Service, utcnow
from portal.services import agencies as agency_service
from portal.services.health import CLOSE, ESCALATE, OPEN, HealthRules, HealthState, next_state
from portal.vocabulary import FAILING

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


Checker = Callable[..., Iterable[CheckResultLike]]


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
    canaries: tuple[str, ...] = ()
    fault_share: float = 0.8
    fault_min_hosts: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MonitorSettings:
        recheck = int(config.get("PORTAL_RECHECK_MINUTES", 2))
        canaries = config.get("PORTAL_MONITOR_CANARIES") or ()
        if isinstance(canaries, str):
            canaries = tuple(c for c in canaries.replace(",", " ").split() if c)
        return cls(
            canaries=tuple(canaries),
            fault_share=float(config.get("PORTAL_MONITOR_FAULT_SHARE", 0.8)),
            fault_min_hosts=int(config.get("PORTAL_MONITOR_FAULT_MIN_HOSTS", 10)),
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

def next_regular_check(now: datetime, interval_minutes: int, jitter: float, rng: random.Random | None) -> datetime:
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
    log.log(logging.WARNING if after in FAILING else logging.INFO,
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
    fault: MonitorFault | None = None,
    commit: bool = True,
) -> AlertEvent | None:
    """Store the check, move the health state machine, schedule the next check, keep incidents and
    alert events in step; commits unless told not to. Returns the alert event raised, if any.

    A check taken during a monitor `fault` is stored as such and moves nothing: the service is only
    checked again soon."""
    now = now or utcnow()
    settings = settings or MonitorSettings()
    inferred = bool(getattr(result, "inferred", False))
    session.add(Check(
        service_id=service.id, checked_at=now, outcome=result.outcome, reason=result.reason,
        http_status=result.http_status, elapsed_ms=max(0, int(result.elapsed_ms)),
        final_url=(result.final_url or None) and result.final_url[:2000], inferred=inferred,
        monitor_fault_id=fault.id if fault is not None else None,
    ))
    if fault is not None:
        service.next_check_at = now + settings.rules.recheck_after
        if commit:
            session.commit()
        return None
    before = HealthState(service.health, service.health_since, service.consecutive_failures, service.health_reason)
    step = next_state(before, result.outcome, result.reason, now, settings.rules, inferred=inferred)
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
        service.next_check_at = next_regular_check(now, interval_minutes, settings.jitter, rng)

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
    if commit:
        session.commit()
    return event


# --- claiming due services -----------------------------------------------------------------------------

def agency_scope(session: Session, agency: Agency | None) -> list[int] | None:
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
    conditions = _due_filter(now, agency_scope(session, agency), rechecks_only)
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
        agency_ids = agency_scope(session, agency)
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
