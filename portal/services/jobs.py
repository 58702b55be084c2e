"""The monitoring jobs the scheduler and the CLI run, each as one call with explicit settings."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from portal.models import Agency, utcnow
from portal.services import alerts, availability, feedback, figures, monitor, operations, sweeps

ROLLUP_LOCK = "daily-rollup"
PURGE_LOCK = "check-retention"
STATS_LOCK = "stats-crawl"
# Set when the process is asked to stop: the checks in flight end and the sweep gives its claims back.
SHUTDOWN = threading.Event()


class EngineChecker:
    """The availability checker of portal.crawlers.checker, configured from PORTAL_CHECK_*.

    Sweeps pass `counters` (hosts throttled, checks inferred) and `infer=False` for confirming re-checks,
    which must request every URL."""

    sweep_options = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.settings = figures.checker_config(config)

    def __call__(self, urls: Iterable[str], counters: Any = None, infer: bool = True) -> Iterable[Any]:
        from portal.crawlers.dispatch import check_urls

        settings = self.settings if infer else dataclasses.replace(self.settings, host_failures=0)
        return check_urls(urls, settings, counters=counters, cancel=SHUTDOWN)


def real_checker(config: Mapping[str, Any]) -> monitor.Checker:
    return EngineChecker(config)


def stats_crawl(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> Any:
    """The daily pass over the stat sources (application figures), behind a lock row."""
    holder = monitor.lock_holder()
    if not monitor.acquire_lock(session, STATS_LOCK, holder, timedelta(hours=2), now):
        return "skipped, a stats crawl is running"
    try:
        return figures.run_stats_crawl(session, config=figures.checker_config(config), now=now, cancel=SHUTDOWN)
    finally:
        monitor.release_lock(session, STATS_LOCK, holder)


def sweep(session: Session, config: Mapping[str, Any], checker: monitor.Checker, *, agency: Agency | None = None,
          worker: bool = False, rechecks_only: bool = False, progress: Callable[[int], None] | None = None,
          lock_name: str = monitor.SWEEP_LOCK) -> sweeps.SweepReport:
    """One sweep over the due services, then deliver the alerts it raised. A sweep (not a re-check) leaves
    its heartbeat: a beat every half minute while it runs, its start, end and count when done."""
    holder, started = monitor.lock_holder(), utcnow()
    last_beat = [started]

    def beating(done: int) -> None:
        if progress:
            progress(done)
        if not rechecks_only and (utcnow() - last_beat[0]).total_seconds() >= operations.HEARTBEAT_SECONDS:
            last_beat[0] = utcnow()
            operations.beat(session, operations.SWEEP, holder, last_beat[0])

    report = sweeps.run_sweep(session, checker, agency=agency, progress=beating, worker=worker,
                               rechecks_only=rechecks_only, settings=monitor.MonitorSettings.from_config(config),
                               lock_name=lock_name, cancel=SHUTDOWN)
    if not report.locked and not rechecks_only:
        operations.beat(session, operations.SWEEP, holder, started_at=started, finished_at=utcnow(),
                        checked=report.checked)
    if report.alerts:
        alerts.deliver_pending(session, alerts.AlertSettings.from_config(config))
    if report.monitor_fault:
        alerts.deliver_monitor_faults(session, alerts.AlertSettings.from_config(config))
    return report


def daily_rollup(session: Session, now: datetime | None = None, days_back: int = 2) -> dict[str, int]:
    """Roll up the last `days_back` whole days (yesterday first); re-running is harmless."""
    now = now or utcnow()
    holder = monitor.lock_holder()
    if not monitor.acquire_lock(session, ROLLUP_LOCK, holder, timedelta(hours=1), now):
        return {}
    try:
        today = availability.local_day(now)
        return {
            (today - timedelta(days=n)).isoformat(): availability.rollup_day(session, today - timedelta(days=n))
            for n in range(1, days_back + 1)
        }
    finally:
        monitor.release_lock(session, ROLLUP_LOCK, holder)


def purge(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> int:
    holder = monitor.lock_holder()
    if not monitor.acquire_lock(session, PURGE_LOCK, holder, timedelta(hours=1), now):
        return 0
    try:
        return availability.purge_checks(session, int(config.get("PORTAL_CHECK_RETENTION_DAYS", 30)), now)
    finally:
        monitor.release_lock(session, PURGE_LOCK, holder)


def open_data_xlsx(session: Session, config: Mapping[str, Any], instance_path: str) -> str:
    """Rebuild the open-data XLSX downloads before they expire, so no visitor waits for a build."""
    from portal.services import opendata

    folder = opendata.xlsx_folder(config, instance_path, session.get_bind().url.render_as_string(hide_password=True))
    max_age = opendata.xlsx_max_age(config) / 2
    paths = [opendata.services_xlsx(session, folder, include_retired=flag, max_age=max_age) for flag in (False, True)]
    return ", ".join(p.name for p in paths)


def deliver_alerts(session: Session, config: Mapping[str, Any]) -> alerts.DeliveryReport:
    settings = alerts.AlertSettings.from_config(config)
    alerts.deliver_monitor_faults(session, settings)
    return alerts.deliver_pending(session, settings)


def feedback_rechecks(session: Session, config: Mapping[str, Any], checker: monitor.Checker) -> sweeps.SweepReport:
    """The re-checks citizens' reports asked for, through the normal checker; then deliver the alerts raised."""
    report = feedback.run_rechecks(session, checker, settings=monitor.MonitorSettings.from_config(config))
    if report.alerts:
        alerts.deliver_pending(session, alerts.AlertSettings.from_config(config))
    return report


def erase_feedback_contacts(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> int:
    """Erase the contacts of citizens' reports closed longer ago than the retention period."""
    return feedback.erase_contacts(session, feedback.FeedbackSettings.from_config(config).contact_retention_days, now)
