"""`portal serve` (and `make run`): gunicorn and the scheduler as supervised child processes.

The database is reached and the port checked before anything starts; the banner is printed once the port
answers. A scheduler that exits is started again after a back-off (1 s, doubling to a minute, reset once it
has run for a minute) and never takes the web server down; when the web server exits, everything stops with
its status. SIGTERM or SIGINT stops the children (SIGTERM, then SIGKILL after `STOP_SECONDS`) and exits 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from portal import startup

log = logging.getLogger("portal.serve")

STOP_SECONDS = 10.0
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
STABLE_SECONDS = 60.0


def web_command(host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_conf", "--workers", str(workers),
            "--bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}", "portal.wsgi:app"]


def scheduler_command() -> list[str]:
    return [sys.executable, "-m", "portal.cli", "scheduler"]


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv)  # noqa: S603 - our own interpreter and modules
        self.started, self.restart_at = time.monotonic(), None
        log.info("%s started (pid %d)", self.name, self.proc.pid)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Supervisor:
    def __init__(self, host: str, port: int, web: Child, scheduler: Child | None) -> None:
        self.host, self.port, self.web, self.scheduler = host, port, web, scheduler
        self.stopping = False

    def _stop_signal(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            log.info("%s received: stopping", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop_signal)
        signal.signal(signal.SIGINT, self._stop_signal)
        try:
            return self._supervise()
        finally:
            self._stop_children()

    def _supervise(self) -> int:
        self.web.start()
        if self.scheduler is not None:
            self.scheduler.start()
        announced = False
        while not self.stopping:
            status = self.web.exited()
            if status is not None:
                log.error("web server exited with status %s; stopping", status)
                return status or 1
            if not announced and port_answers(self.host, self.port):
                print(f"Cổng dịch vụ công: http://{self.host}:{self.port}/  (Ctrl+C to stop)", flush=True)
                announced = True
            self._watch_scheduler()
            time.sleep(0.2)
        return 0

    def _watch_scheduler(self) -> None:
        child = self.scheduler
        if child is None:
            return
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                child.start()
            return
        status = child.exited()
        if status is None:
            return
        ran = now - child.started
        if ran >= STABLE_SECONDS:
            child.backoff = FIRST_BACKOFF
        log.warning("scheduler exited with status %s after %.0f s; restarting in %.0f s", status, ran, child.backoff)
        child.restart_at = now + child.backoff
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def _stop_children(self) -> None:
        children = [c for c in (self.scheduler, self.web) if c is not None and c.running()]
        for child in children:
            child.proc.terminate()  # type: ignore[union-attr]
        deadline = time.monotonic() + STOP_SECONDS
        for child in children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killed", child.name, STOP_SECONDS)
                child.proc.kill()  # type: ignore[union-attr]
                child.proc.wait()  # type: ignore[union-attr]


def serve(database_url: str, host: str, port: int, workers: int, scheduler: bool) -> int:
    """Check the database and the port, then run the supervisor until stopped; the exit status."""
    startup.require_database(database_url)
    problem = startup.port_problem(host, port)
    if problem:
        startup.fail(problem)
    if not scheduler:
        log.info("no scheduler: the monitor is off (PORTAL_MONITOR=off or --no-scheduler)")
    return Supervisor(host, port, Child("web server", web_command(host, port, workers)),
                      Child("scheduler", scheduler_command()) if scheduler else None).run()
