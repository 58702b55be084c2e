"""`portal serve` supervises its children; stopping cancels a sweep in flight and gives its claims back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from datetime import timedelta

import requests
from sqlalchemy import func, or_, select

from portal.crawlers.checker import CheckerConfig
from portal.crawlers.dispatch import check_urls
from portal.models import Check, JobLock, Service, utcnow
from portal.services import monitor, sweeps
from tests.monitoring_helpers import make_agency, make_services, result
from tests.ops.processes import PORTAL, Lines, children, cmdline, free_port, stop


def _scheduler_pid(serve_pid: int) -> int:
    found = [pid for pid in children(serve_pid) if "portal.cli scheduler" in cmdline(pid)]
    assert len(found) == 1, [cmdline(pid) for pid in children(serve_pid)]
    return found[0]


def test_serve_restarts_a_killed_scheduler_and_stops_on_sigterm(migrated):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*PORTAL, "serve", "--port", str(port)], env=migrated,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        Lines(proc.stdout).wait_for(rf"Cổng dịch vụ công: {base}/", 60)
        assert requests.get(base + "/", timeout=10).status_code == 200  # the banner comes once the port answers
        log = Lines(proc.stderr)
        log.wait_for(r"scheduler started \(pid \d+\)")
        first = _scheduler_pid(proc.pid)
        os.kill(first, signal.SIGKILL)
        log.wait_for(r"WARNING portal\.serve: scheduler exited with status -9 .* restarting in 1 s", 15)
        second = int(log.wait_for(r"scheduler started \(pid (\d+)\)", 15).group(1))
        assert second != first and second == _scheduler_pid(proc.pid)
        assert requests.get(base + "/", timeout=10).status_code == 200  # the web server never went down
        web = [pid for pid in children(proc.pid) if "gunicorn" in cmdline(pid)]
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert time.monotonic() - started < 12
        assert not any(cmdline(pid) for pid in [second, *web])
    finally:
        stop(proc)


def test_a_cancelled_sweep_gives_back_what_it_claimed(db):
    agency = make_agency(db.session)
    make_services(db.session, agency, 6)
    cancel = threading.Event()

    def checker(urls):
        for url in list(urls)[:2]:
            yield result(url)
        cancel.set()  # SIGTERM arrives while the rest are in flight

    settings = monitor.MonitorSettings(batch_size=3)
    report = sweeps.run_sweep(db.session, checker, settings=settings, cancel=cancel)
    assert report.cancelled and report.checked == 2 and report.errors == 0
    assert db.session.execute(select(func.count()).select_from(Check)).scalar_one() == 2
    now = utcnow()
    due = db.session.execute(select(func.count()).select_from(Service)
                             .where(or_(Service.next_check_at.is_(None), Service.next_check_at <= now)))
    assert due.scalar_one() == 4  # one claimed but unchecked, three never claimed: all due for the next sweep
    assert db.session.execute(select(JobLock)).first() is None
    assert monitor.acquire_lock(db.session, monitor.SWEEP_LOCK, "next", timedelta(minutes=1))


def test_cancelling_the_checker_ends_a_stalled_check_at_once():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/stalls"
    cancel = threading.Event()
    config = CheckerConfig(allow_private=True, read_timeout=60, deadline=60)
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    try:
        assert list(check_urls([url], config, cancel=cancel)) == []
        assert time.monotonic() - started < 3
    finally:
        for sock in [*accepted, server]:
            sock.close()
