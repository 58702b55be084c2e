"""Sweeps: every due service checked once, claimed in batches as the checker asks for URLs, results recorded in
chunks, with the monitor's self-check (canaries, the share of hosts unreachable) telling a monitor fault from
services failing. A sweep (as opposed to a `--worker`) holds the `availability-sweep` lock, renewed by a heartbeat."""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from portal.models import Agency, Check, MonitorFault, Service, SweepRun, utcnow
from portal.services.health import HealthState, next_state
from portal.services.monitor import (
    SWEEP_LOCK,
    Checker,
    CheckResultLike,
    LockHeartbeat,
    MonitorSettings,
    acquire_lock,
    agency_scope,
    due_services,
    lock_holder,
    next_regular_check,
    record_result,
    release_lock,
)
from portal.vocabulary import NETWORK_REASONS

log = logging.getLogger(__name__)

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
            agency_ids = agency_scope(session, agency)
            intervals = dict(session.execute(select(Agency.id, Agency.check_interval_minutes)).all())
            lease = timedelta(minutes=settings.lease_minutes)
            sweep = _Sweep(session, checker, settings, report, progress, clock, intervals,
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
    failures hit `fault_share` of the first `fault_min_hosts` distinct hosts, the sweep is a monitor fault:
    its network-level failures are stored with the fault and move no health state (no incident, no
    agency alert); the fault row is what operators are alerted about and what public pages show.
    Network-level failures are held back until that can be decided.

    During the sweep the monitor keeps watching its reach: over the last `fault_min_hosts` distinct hosts
    that had answered earlier in the sweep, when the newest result of `fault_share` of them is a
    network-level failure, the monitor lost its network mid-sweep and a fault starts; when as many answer
    again, an open fault ends. Hosts that never answered do not count, so dead hosts left at the end of a
    sweep (slow to fail, hence last) cannot look like a monitor fault. A network-level failure waits until
    every host of that window had a result after it (a lost network shows by then) before it counts as the
    service's own; what still waits at the end of the sweep is judged by the canaries, when there are any."""

    def __init__(self, session: Session, checker: Checker, settings: MonitorSettings, report: SweepReport,
                 progress: Callable[[int], None] | None, clock: Callable[[], datetime], intervals: dict[int, int],
                 kind: str, cancel: threading.Event | None = None) -> None:
        self.session, self.checker, self.settings, self.report = session, checker, settings, report
        self.progress, self.clock, self.intervals = progress, clock, intervals
        self.cancel = cancel
        self.bind = session.get_bind()
        self.ids_by_url: dict[str, list[int]] = {}
        self.guard = threading.Lock()
        self.buffer: list[tuple[list[int], CheckResultLike, MonitorFault | None]] = []
        self.hosts: dict[str, bool] = {}
        self.recent: collections.OrderedDict[str, tuple[bool, int]] = collections.OrderedDict()
        self.observed = 0
        # network-level failures waiting for a verdict, each with the count of observations when it came
        self.pending: collections.deque[tuple[int, list[int], CheckResultLike]] = collections.deque()
        self.fault: MonitorFault | None = open_fault(session)
        self.fault_confirmed = False
        self.seen_fault: MonitorFault | None = None
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

    def _start_fault(self, reason: str, detail: str, hosts: int | None = None, failed: int | None = None) -> None:
        self.fault_confirmed = True
        if self.fault is None:
            self.fault = MonitorFault(started_at=self.clock(), reason=reason, detail=detail[:500])
            self.session.add(self.fault)
            log.warning("monitor fault: %s", detail)
        self.seen_fault = self.fault
        self.fault.hosts = len(self.hosts) if hosts is None else hosts
        self.fault.failed_hosts = (sum(1 for reached in self.hosts.values() if not reached)
                                   if failed is None else failed)
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
        elif self.settings.canaries and self.pending:
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
        self._release()

    def _release(self, before: int | None = None) -> None:
        """Pending failures (those observed before `before`, or all) go to be recorded, with the open fault."""
        pending = self.pending
        while pending and (before is None or pending[0][0] < before):
            _seen, ids, result = pending.popleft()
            self.buffer.append((ids, result, self.fault))

    def _observe(self, host: str, answered: bool) -> None:
        """The newest result of a host that had answered earlier in the sweep: start or end a fault."""
        recent, settings = self.recent, self.settings
        self.observed += 1
        recent[host] = (answered, self.observed)
        recent.move_to_end(host)
        while len(recent) > settings.fault_min_hosts:
            recent.popitem(last=False)
        if len(recent) < settings.fault_min_hosts:
            return
        failed = sum(1 for ok, _seen in recent.values() if not ok)
        if self.fault is None and failed >= settings.fault_share * len(recent):
            self._start_fault("network", f"{failed} of {len(recent)} hosts that had answered in this sweep "
                              "stopped answering", len(recent), failed)
            self._release()
        elif self.fault is not None and len(recent) - failed >= settings.fault_share * len(recent):
            self._end_fault()

    def _settle(self, final: bool = False) -> None:
        """Pending failures are the services' own once every host of the window answered or failed after
        them (a lost network would have shown by then). At the end of the sweep the canaries, when there are
        any, judge the failures still pending."""
        if not self.pending:
            return
        if final:
            if self.fault is None and self.settings.canaries and self._canaries_fail():
                self._start_fault("canaries", "every canary URL failed at the end of the sweep")
            self._release()
        elif len(self.recent) >= self.settings.fault_min_hosts:
            self._release(before=next(iter(self.recent.values()))[1])  # the window's oldest result

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
        answered_before = self.hosts.get(host, False)
        if not failed:
            self.hosts[host] = True
        elif not answered_before:
            self.hosts[host] = False
        if not self.decided:
            if failed and self.fault_confirmed and self.fault is not None:
                self.buffer.append((ids, result, self.fault))
            elif failed:
                self.pending.append((self.observed, ids, result))
            else:
                self.buffer.append((ids, result, None))
            self._decide()
        else:
            if answered_before:
                self._observe(host, not failed)
            if not failed:
                self.buffer.append((ids, result, None))
            elif self.fault is not None:
                self.buffer.append((ids, result, self.fault))
            else:
                self.pending.append((self.observed, ids, result))
            self._settle()
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
            for service_ids, result, fault in chunk:
                for service_id in service_ids:
                    self._record_one(service_id, result, fault)
        else:
            self.report.checked += len(ids)
            self.report.alerts += alerts
            self.report.inferred += sum(len(i) for i, r, _f in chunk if getattr(r, "inferred", False))
        if self.progress:
            self.progress(len(ids))

    def _record_chunk(self, chunk: list[tuple[list[int], CheckResultLike, MonitorFault | None]], ids: list[int],
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
        for service_ids, result, fault in chunk:
            inferred = bool(getattr(result, "inferred", False))
            row_of_check = {
                "checked_at": now, "outcome": result.outcome, "reason": result.reason,
                "http_status": result.http_status, "elapsed_ms": max(0, int(result.elapsed_ms)),
                "final_url": (result.final_url or None) and result.final_url[:2000], "inferred": inferred,
                "monitor_fault_id": fault.id if fault is not None else None,
            }
            for service_id in service_ids:
                state = states.get(service_id)
                if state is None:
                    continue
                if fault is not None:
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
                    else next_regular_check(now, interval, settings.jitter, None),
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

    def _record_one(self, service_id: int, result: CheckResultLike, fault: MonitorFault | None) -> None:
        try:
            service = self.session.get(Service, service_id)
            if service is None:
                return
            settings = self.settings
            event = record_result(
                self.session, service, result, self.clock(), settings=settings,
                interval_minutes=self.intervals.get(service.agency_id) or settings.interval_minutes,
                fault=fault)
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
            self._settle(final=True)
            self._release_claims()
            self._finish()
            return
        self._decide(final=True)
        self._settle(final=True)
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
            ids += [service_id for _seen, held_ids, _result in self.pending for service_id in held_ids]
            self.ids_by_url = {}
            self.pending.clear()
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
            row.monitor_fault_id = self.report.monitor_fault = self.fault.id
            self.fault.hosts = max(self.fault.hosts, len(self.hosts))
            self.fault.failed_hosts = max(self.fault.failed_hosts,
                                          sum(1 for reached in self.hosts.values() if not reached))
        elif self.seen_fault is not None:  # started and ended during this sweep
            row.monitor_fault_id = self.report.monitor_fault = self.seen_fault.id
        self.session.commit()
