"""`portal scheduler` — the monitoring jobs on APScheduler 3.x, in the foreground, in its own process.

Every job has an id, runs inside an app context, never overlaps itself (max_instances=1, coalesce=True)
and, because several scheduler processes could run by mistake, also takes a lock row in the database.
Start times are jittered so that many portals (or restarts) do not hit the same agencies at once.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal import startup
from portal.extensions import db
from portal.models import utcnow
from portal.services import availability, jobs, monitor, operations
from portal.services.opendata import xlsx_max_age as opendata_max_age

log = logging.getLogger("portal.scheduler")

RECHECK_LOCK = "availability-recheck"
STOP_SECONDS = 8.0
JOB_OPTIONS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 120, "replace_existing": True}


def _in_app(app: Flask, name: str, work: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                result = work()
                if result is not None:
                    log.info("job %s: %s", name, result)
            except Exception:
                db.session.rollback()
                raise  # APScheduler logs it; the next run starts afresh
            finally:
                db.session.remove()

    run.__name__ = f"portal_{name}"
    return run


def add_jobs(scheduler: BaseScheduler, app: Flask,
             checker_factory: Callable[[Any], monitor.Checker] = jobs.real_checker) -> BaseScheduler:
    """Add the jobs: sweep, recheck, rollup, purge, alerts, the daily stats crawl, the open-data XLSX, the
    heartbeat and the citizens' reports (their re-checks, the erasure of contacts)."""
    config = app.config
    checker = checker_factory(config)
    now = utcnow()

    def soon(low: int, high: int) -> Any:
        return now + timedelta(seconds=random.uniform(low, high))  # noqa: S311 - jitter, not security

    def sweep() -> str:
        report = jobs.sweep(db.session, config, checker)
        return "skipped, a sweep is running" if report.locked else f"{report.checked} checked, {report.errors} errors"

    def recheck() -> str:
        report = jobs.sweep(db.session, config, checker, rechecks_only=True, lock_name=RECHECK_LOCK)
        return "skipped" if report.locked else f"{report.checked} re-checked"

    zone = availability.DAY_ZONE
    scheduler.add_job(_in_app(app, "sweep", sweep), IntervalTrigger(minutes=1, jitter=10), id="sweep",
                      name="Sweep the services that are due", next_run_time=soon(5, 30), **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "recheck", recheck), IntervalTrigger(seconds=30, jitter=5), id="recheck",
                      name="Re-check services that just failed", next_run_time=soon(15, 45), **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "rollup", lambda: jobs.daily_rollup(db.session)),
                      CronTrigger(hour=0, minute=20, timezone=zone, jitter=300), id="rollup",
                      name="Daily roll-up of checks", **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "purge", lambda: jobs.purge(db.session, config)),
                      CronTrigger(hour=1, minute=10, timezone=zone, jitter=300), id="purge",
                      name="Purge raw checks past retention", **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "alerts", lambda: jobs.deliver_alerts(db.session, config)),
                      IntervalTrigger(minutes=1, jitter=10), id="alerts",
                      name="Deliver pending alerts (digest when many)", next_run_time=soon(20, 50), **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "stats", lambda: jobs.stats_crawl(db.session, config)),
                      CronTrigger(hour=2, minute=30, timezone=zone, jitter=900), id="stats",
                      name="Crawl the statistics pages (application figures)", **JOB_OPTIONS)
    scheduler_holder = monitor.lock_holder()
    scheduler.add_job(_in_app(app, "heartbeat", lambda: operations.beat(db.session, operations.SCHEDULER,
                                                                          scheduler_holder)),
                      IntervalTrigger(seconds=operations.HEARTBEAT_SECONDS), id="heartbeat",
                      name="Scheduler heartbeat (for /readyz)", next_run_time=now, **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "feedback-recheck", lambda: jobs.feedback_rechecks(db.session, config, checker)),
                      IntervalTrigger(seconds=10, jitter=2), id="feedback-recheck",
                      name="Re-check the services citizens just reported", next_run_time=soon(5, 15), **JOB_OPTIONS)
    scheduler.add_job(_in_app(app, "feedback-erase", lambda: jobs.erase_feedback_contacts(db.session, config)),
                      CronTrigger(hour=1, minute=40, timezone=zone, jitter=300), id="feedback-erase",
                      name="Erase reporters' contacts past retention", **JOB_OPTIONS)
    rebuild = max(60, int(opendata_max_age(config) / 3))
    scheduler.add_job(_in_app(app, "open-data", lambda: jobs.open_data_xlsx(db.session, config, app.instance_path)),
                      IntervalTrigger(seconds=rebuild, jitter=30), id="open-data",
                      name="Rebuild the open-data XLSX downloads", next_run_time=soon(30, 90), **JOB_OPTIONS)
    return scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the monitoring jobs in the foreground (Ctrl+C or SIGTERM stops it, exit 0).

    Stopping cancels a sweep in flight: the checks under way end, the services it claimed are due again
    and its lock is released."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PORTAL_MONITOR"] == "off":
        raise click.ClickException("the monitor is off (PORTAL_MONITOR=off)")
    startup.require_database(app.config["SQLALCHEMY_DATABASE_URI"])
    scheduler = add_jobs(BlockingScheduler(timezone=availability.DAY_ZONE), app)

    def stop(signum: int, _frame: object) -> None:
        log.info("%s received: stopping the scheduler", signal.Signals(signum).name)
        jobs.SHUTDOWN.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for job in scheduler.get_jobs():
        log.info("job %s: %s (%s)", job.id, job.name, job.trigger)
    scheduler.start()
    deadline = time.monotonic() + STOP_SECONDS
    busy = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    for thread in busy:  # a sweep in flight ends within a second of the cancel; other jobs get STOP_SECONDS
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in busy):
        log.warning("a job was still running %.0f s after the stop; leaving it (its lock expires)", STOP_SECONDS)
        logging.shutdown()
        os._exit(0)
    log.info("scheduler stopped")
