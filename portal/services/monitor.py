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
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Agency, AlertEvent, Check, Incident, JobLock, MonitorFault, Service, SweepRun, utcnow
from portal.services import agencies as agency_service
from portal.services.health import CLOSE, ESCALATE, OPEN, HealthRules, HealthState, next_state
from portal.vocabulary import FAILING, NETWORK_REASONS

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
    if commit:
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


# --- sweeps --------------------------------------------------------------------------------------------

_CHUNK = 200
_CHUNK_SECONDS = 0.5
# The checker's event loop runs in a thread beside the recording one; every database call gives the GIL
# away, and with the default 5 ms switch interval taking it back costs more than the call.
_SWITCH_SECONDS = 0.0005


@dataclass
class SweepReport:
    checked: int = 0
    errors: int = 0
    alerts: int = 0
    locked: bool = False
    cancelled: bool = False
    error_messages: list[str] = field(default_factory=list)
    inferred: int = 0
    monitor_fault: int | None = None
    throttled_hosts: int = 0

    def note_error(self, message: str, count: int = 1) -> None:
        self.errors += count
        if len(self.error_messages) < 20:
            self.error_messages.append(message)


def network_failure(result: CheckResultLike) -> bool:
    """The monitor got no answer at all (name, connection, TLS or time): says little about the path."""
    return result.outcome == "down" and result.reason in NETWORK_REASONS and result.http_status is None


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return url


def open_fault(session: Session) -> MonitorFault | None:
    return session.execute(
        select(MonitorFault).where(MonitorFault.ended_at.is_(None)).order_by(MonitorFault.started_at.desc()).limit(1)
    ).scalar_one_or_none()


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
    """Check every service due when the sweep starts: claimed in batches as the checker asks for URLs.

    One failing check never stops the sweep: when the checker raises, the URLs it left unanswered are
    retried one at a time, and a result that cannot be recorded is rolled back and counted. Unless
    `worker` (PostgreSQL workers share the work through SKIP LOCKED), the sweep holds a lock row and
    returns `locked=True` when another sweep is still running. Canary URLs and the share of hosts that
    could not be reached tell a monitor fault from services failing (see _Sweep). Once `cancel` is set no
    batch is claimed and the services claimed but not checked are due again at once (`cancelled=True`).
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
            sweep = _Sweep(session, checker, settings, report, progress, clock, intervals, renew=None,
                           kind="recheck" if rechecks_only else "worker" if worker else "sweep", cancel=cancel)

            def claims(claim_session: Session) -> list[tuple[int, str]]:
                if (heartbeat is not None and heartbeat.lost) or (cancel is not None and cancel.is_set()):
                    return []
                return due_services(claim_session, started, limit=settings.batch_size, lease=lease,
                                    rechecks_only=rechecks_only, agency_ids=agency_ids)

            sweep.run(claims)
    finally:
        if not worker:
            release_lock(session, lock_name, holder)
    return report


class _Sweep:
    """One sweep's flow: URLs claimed as the checker reads them, results recorded in chunks (one commit each).

    Monitor self-check: when every canary URL fails (before or after the sweep), or when network-level
    failures hit `fault_share` of at least `fault_min_hosts` distinct hosts, the sweep is a monitor fault:
    its network-level failures are stored with the fault and move no health state (no incident, no
    agency alert); the fault row is what operators are alerted about and what public pages show.
    Network-level failures are held back until that can be decided."""

    def __init__(self, session: Session, checker: Checker, settings: MonitorSettings, report: SweepReport,
                 progress: Callable[[int], None] | None, clock: Callable[[], datetime], intervals: dict[int, int],
                 renew: Callable[[], Any] | None, kind: str, cancel: threading.Event | None = None) -> None:
        self.session, self.checker, self.settings, self.report = session, checker, settings, report
        self.progress, self.clock, self.intervals, self.renew = progress, clock, intervals, renew
        self.cancel = cancel
        self.bind = session.get_bind()
        self.ids_by_url: dict[str, list[int]] = {}
        self.guard = threading.Lock()
        self.buffer: list[tuple[list[int], CheckResultLike, bool]] = []
        self.held: list[tuple[list[int], CheckResultLike]] = []
        self.hosts: dict[str, bool] = {}
        self.fault: MonitorFault | None = open_fault(session)
        self.fault_confirmed = False
        self.decided = False
        self.last_flush = time.monotonic()
        self.counters: Any = None
        self.options: dict[str, Any] = {}
        if getattr(checker, "sweep_options", False):
            from portal.crawlers.dispatch import SweepCounters

            self.counters = SweepCounters()
            self.options = {"counters": self.counters, "infer": kind != "recheck"}
        self.run_row = SweepRun(started_at=clock(), kind=kind)
        session.add(self.run_row)
        session.commit()

    # -- canaries and the fault decision

    def _canaries_fail(self) -> bool | None:
        """True when every canary failed, False when one answered, None without canaries."""
        canaries = list(self.settings.canaries)
        if not canaries:
            return None
        try:
            results = list(self.checker(canaries, **self.options))
        except Exception as exc:  # noqa: BLE001 - a checker that cannot even check the canaries
            log.warning("canary check failed: %s", exc)
            return True
        return all(r.outcome == "down" for r in results) and len(results) > 0

    def _start_fault(self, reason: str, detail: str) -> None:
        self.fault_confirmed = True
        if self.fault is None:
            self.fault = MonitorFault(started_at=self.clock(), reason=reason, detail=detail[:500])
            self.session.add(self.fault)
            log.warning("monitor fault: %s", detail)
        self.fault.hosts = len(self.hosts)
        self.fault.failed_hosts = sum(1 for reached in self.hosts.values() if not reached)
        self.session.commit()

    def _end_fault(self) -> None:
        if self.fault is not None:
            self.fault.ended_at = self.clock()
            self.session.commit()
            self.fault = None

    def _decide(self, final: bool = False) -> None:
        if self.decided:
            return
        total = len(self.hosts)
        failed = sum(1 for reached in self.hosts.values() if not reached)
        if total >= self.settings.fault_min_hosts:
            if failed >= self.settings.fault_share * total:
                self._start_fault("network", f"{failed} of {total} hosts unreachable from the monitor")
            else:
                self._end_fault()
        elif not final:
            return
        elif self.settings.canaries and self.held:
            if self._canaries_fail():
                self._start_fault("canaries", "every canary URL failed")
            else:
                self._end_fault()
        elif self.fault is not None and not self.fault_confirmed:
            if any(self.hosts.values()):
                self._end_fault()
            else:
                self.fault_confirmed = True
        self.decided = True
        self.buffer.extend((ids, result, self.fault is not None) for ids, result in self.held)
        self.held.clear()

    # -- claiming and recording

    def _urls(self, claims: Callable[[Session], list[tuple[int, str]]], claimed: list[int]) -> Iterator[str]:
        with Session(bind=self.bind) as claim_session:
            while True:
                batch = claims(claim_session)
                if not batch:
                    return
                claimed[0] += len(batch)
                fresh: list[str] = []
                with self.guard:
                    for service_id, url in batch:
                        if url not in self.ids_by_url:
                            fresh.append(url)
                        self.ids_by_url.setdefault(url, []).append(service_id)
                yield from fresh

    def _take(self, result: CheckResultLike) -> None:
        with self.guard:
            ids = self.ids_by_url.pop(result.url, [])
        if not ids:
            return
        host = host_of(result.url)
        failed = network_failure(result)
        if not failed:
            self.hosts[host] = True
        else:
            self.hosts.setdefault(host, False)
        if failed and self.fault_confirmed and self.fault is not None:
            self.buffer.append((ids, result, True))
        elif failed and not self.decided:
            self.held.append((ids, result))
        else:
            self.buffer.append((ids, result, False))
        self._decide()
        if len(self.buffer) >= _CHUNK or time.monotonic() - self.last_flush >= _CHUNK_SECONDS:
            self._flush()

    def _flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        chunk, self.buffer = self.buffer, []
        session = self.session
        ids = [service_id for service_ids, _r, _f in chunk for service_id in service_ids]
        now = self.clock()
        try:
            alerts = self._record_chunk(chunk, ids, now)
            session.commit()
        except Exception:  # noqa: BLE001 - record one at a time to find and skip the bad one
            session.rollback()
            for service_ids, result, faulty in chunk:
                for service_id in service_ids:
                    self._record_one(service_id, result, faulty)
        else:
            self.report.checked += len(ids)
            self.report.alerts += alerts
            self.report.inferred += sum(len(i) for i, r, _f in chunk if getattr(r, "inferred", False))
        if self.progress:
            self.progress(len(ids))
        if self.renew is not None:
            self.renew()

    def _record_chunk(self, chunk: list[tuple[list[int], CheckResultLike, bool]], ids: list[int],
                      now: datetime) -> int:
        """What record_result does, in bulk statements; transitions that open or close incidents go
        through record_result itself. Returns the alert events raised."""
        session, settings = self.session, self.settings
        recheck = settings.rules.recheck_after
        states = {row.id: row for row in session.execute(
            select(Service.id, Service.agency_id, Service.health, Service.health_since,
                   Service.consecutive_failures, Service.health_reason).where(Service.id.in_(ids)))}
        checks: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        postponed: list[dict[str, Any]] = []
        eventful: list[tuple[int, CheckResultLike]] = []
        for service_ids, result, faulty in chunk:
            inferred = bool(getattr(result, "inferred", False))
            row_of_check = {
                "checked_at": now, "outcome": result.outcome, "reason": result.reason,
                "http_status": result.http_status, "elapsed_ms": max(0, int(result.elapsed_ms)),
                "final_url": (result.final_url or None) and result.final_url[:2000], "inferred": inferred,
                "monitor_fault_id": self.fault.id if faulty and self.fault is not None else None,
            }
            for service_id in service_ids:
                state = states.get(service_id)
                if state is None:
                    continue
                if faulty:
                    checks.append({**row_of_check, "service_id": service_id})
                    postponed.append({"_id": service_id, "next_check_at": now + recheck})
                    continue
                step = next_state(HealthState(state.health, state.health_since, state.consecutive_failures,
                                              state.health_reason),
                                  result.outcome, result.reason, now, settings.rules, inferred=inferred)
                if step.incident is not None:
                    eventful.append((service_id, result))
                    continue
                after = step.after
                interval = self.intervals.get(state.agency_id) or settings.interval_minutes
                checks.append({**row_of_check, "service_id": service_id})
                updates.append({
                    "_id": service_id, "health": after.health, "health_since": after.since,
                    "consecutive_failures": after.failures, "health_reason": after.reason, "last_checked_at": now,
                    "next_check_at": now + recheck if step.recheck_soon
                    else _next_regular_check(now, interval, settings.jitter, None),
                })
        table = Service.__table__
        if checks:
            session.execute(Check.__table__.insert(), checks)
        for rows in (updates, postponed):
            if rows:
                columns = {name: bindparam(name) for name in rows[0] if name != "_id"}
                session.execute(update(table).where(table.c.id == bindparam("_id")).values(columns), rows)
        alerts = 0
        for service_id, result in eventful:
            service = session.get(Service, service_id)
            if service is not None:
                alerts += record_result(session, service, result, now, settings=settings, commit=False,
                                        interval_minutes=self.intervals.get(service.agency_id)
                                        or settings.interval_minutes) is not None
        return alerts

    def _record_one(self, service_id: int, result: CheckResultLike, faulty: bool) -> None:
        try:
            service = self.session.get(Service, service_id)
            if service is None:
                return
            settings = self.settings
            event = record_result(
                self.session, service, result, self.clock(), settings=settings,
                interval_minutes=self.intervals.get(service.agency_id) or settings.interval_minutes,
                fault=self.fault if faulty else None)
            self.report.checked += 1
            self.report.alerts += event is not None
            self.report.inferred += bool(getattr(result, "inferred", False))
        except Exception as exc:  # noqa: BLE001 - one bad record must not end the sweep
            self.session.rollback()
            log.exception("could not record the check of service %s", service_id)
            self.report.note_error(f"service {service_id}: {type(exc).__name__}: {exc}")

    def run(self, claims: Callable[[Session], list[tuple[int, str]]]) -> None:
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, _SWITCH_SECONDS))
        try:
            self._run(claims)
        finally:
            sys.setswitchinterval(switch)

    def _run(self, claims: Callable[[Session], list[tuple[int, str]]]) -> None:
        if self._canaries_fail():
            self._start_fault("canaries", "every canary URL failed before the sweep")
        elif self.settings.canaries:
            self._end_fault()
        try:
            while True:
                claimed = [0]
                try:
                    for result in self.checker(self._urls(claims, claimed), **self.options):
                        self._take(result)
                    break
                except Exception as exc:  # noqa: BLE001 - a broken checker must not end the sweep
                    log.warning("checker failed (%s); checking the URLs it left one by one", exc)
                    self._one_by_one()
                    if not claimed[0]:
                        self.report.note_error(f"checker: {type(exc).__name__}: {exc}")
                        break
        except BaseException:
            self._release_claims()
            raise
        if self.cancel is not None and self.cancel.is_set():
            self.report.cancelled = True
            self._decide(final=True)
            self._release_claims()
            self._finish()
            return
        self._decide(final=True)
        self._flush()
        with self.guard:
            left, self.ids_by_url = self.ids_by_url, {}
        for url, ids in left.items():  # the checker said nothing about these; their lease brings them back
            self.report.note_error(f"{url}: no result", len(ids))
            if self.progress:
                self.progress(len(ids))
        self._finish()

    def _release_claims(self) -> None:
        """A cancelled sweep: record what was checked and make the services it had claimed due again now."""
        with self.guard:
            ids = [service_id for ids in self.ids_by_url.values() for service_id in ids]
            self.ids_by_url = {}
        try:
            self._flush()
        except Exception:  # noqa: BLE001 - releasing the claims matters more
            log.exception("could not record the last checks of a cancelled sweep")
        self.session.rollback()
        for start in range(0, len(ids), 500):
            self.session.execute(update(Service).where(Service.id.in_(ids[start:start + 500]))
                                 .values(next_check_at=self.clock()), execution_options={"synchronize_session": False})
        self.session.commit()
        log.warning("sweep cancelled: %d claimed services released", len(ids))

    def _one_by_one(self) -> None:
        with self.guard:
            pending = list(self.ids_by_url)
        for url in pending:
            try:
                for result in self.checker([url], **self.options):
                    self._take(result)
            except Exception as one_exc:  # noqa: BLE001
                with self.guard:
                    ids = self.ids_by_url.pop(url, [])
                log.warning("check of %s failed: %s", url, one_exc)
                self.report.note_error(f"{url}: {type(one_exc).__name__}: {one_exc}", len(ids))
                if self.progress:
                    self.progress(len(ids))

    def _finish(self) -> None:
        row = self.run_row
        row.finished_at = self.clock()
        row.checked, row.inferred = self.report.checked, self.report.inferred
        if self.counters is not None:
            row.retried = self.counters.retried
            row.throttled_hosts = len(self.counters.throttled_hosts)
            row.failed_hosts = len(self.counters.failed_hosts)
            self.report.throttled_hosts = row.throttled_hosts
        if self.fault is not None and self.fault_confirmed:
            row.monitor_fault_id = self.fault.id
            self.fault.hosts = max(self.fault.hosts, len(self.hosts))
            self.fault.failed_hosts = max(self.fault.failed_hosts,
                                          sum(1 for reached in self.hosts.values() if not reached))
            self.report.monitor_fault = self.fault.id
        self.session.commit()
