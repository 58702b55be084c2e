"""The sweep lock lives as long as its holder: a killed sweep's lock expires within `lock_seconds`, a live
long sweep keeps it past that, and a skipped job says who holds the lock and for how long."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from portal.models import JobLock
from portal.services import monitor, sweeps
from tests.monitoring_helpers import FakeChecker, make_agency, make_services, result

ROOT = Path(__file__).resolve().parents[2]
LOCK_SECONDS = 3

KILLED_SWEEP = """
import sys, time
from tests.conftest import make_app
from portal.extensions import db
from portal.services import monitor, sweeps

app = make_app(sys.argv[1])
with app.app_context():
    def stuck(urls):
        print("checking", flush=True)
        time.sleep(600)
        return []
    sweeps.run_sweep(db.session, stuck, settings=monitor.MonitorSettings(lock_seconds=int(sys.argv[2])))
"""


def lock_row(db):
    db.session.rollback()
    return db.session.execute(select(JobLock).where(JobLock.name == monitor.SWEEP_LOCK)).scalar_one_or_none()


def test_a_killed_sweep_releases_the_lock_within_its_seconds(app, db):
    agency = make_agency(db.session)
    make_services(db.session, agency, 3)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SWEEP, app.config["SQLALCHEMY_DATABASE_URI"],
                              str(LOCK_SECONDS)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "checking"
        time.sleep(LOCK_SECONDS * 1.5)  # beats renewed it meanwhile
        assert sweeps.run_sweep(db.session, FakeChecker()).locked
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    killed_at = time.monotonic()
    while sweeps.run_sweep(db.session, FakeChecker()).locked:
        assert time.monotonic() - killed_at < LOCK_SECONDS * 2 + 2, "the dead sweep's lock did not expire"
        time.sleep(0.2)
    assert lock_row(db) is None  # the new sweep ran and released it


def test_a_live_long_sweep_keeps_the_lock_past_its_seconds(app, db, caplog):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 2)
    release = threading.Event()
    done: list[sweeps.SweepReport] = []

    def slow_checker(urls):
        release.wait(timeout=30)
        return [result(url) for url in urls]

    def sweep() -> None:
        from sqlalchemy.orm import Session

        with app.app_context(), Session(db.engine) as session:
            done.append(sweeps.run_sweep(session, slow_checker,
                                          settings=monitor.MonitorSettings(lock_seconds=LOCK_SECONDS)))

    runner = threading.Thread(target=sweep)
    runner.start()
    try:
        time.sleep(LOCK_SECONDS * 2)
        with caplog.at_level(logging.INFO, logger="portal.services.monitor"):
            assert sweeps.run_sweep(db.session, FakeChecker()).locked
        held = lock_row(db)
        assert held is not None
        line = next(r.getMessage() for r in caplog.records if "skipped" in r.getMessage())
        assert line.startswith(f"{monitor.SWEEP_LOCK} skipped: the lock is held by {held.holder} for ")
    finally:
        release.set()
        runner.join(timeout=30)
    assert done and done[0].checked == len(services) and not done[0].locked
    assert lock_row(db) is None
