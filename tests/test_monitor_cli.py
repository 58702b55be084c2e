"""`portal crawl availability` and the scheduler's jobs, with fake checkers (no network)."""

import io
import threading
import time
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from portal.commands import crawl, scheduler
from portal.models import Check, JobLock, Service
from portal.services import monitor
from tests.monitoring_helpers import FakeChecker, make_agency, make_services


def test_crawl_availability_sweeps_due_services(runner, db, monkeypatch):
    agency = make_agency(db.session)
    other = make_agency(db.session, code="bo-thu", name="Bộ Thử", kind="ministry")
    make_services(db.session, agency, 3)
    make_services(db.session, other, 2, prefix="https://bo.example.gov.vn/")
    checker = FakeChecker()
    monkeypatch.setattr(crawl, "checker_factory", lambda config: checker)
    out = runner.invoke(args=["crawl", "availability", "--agency", "bo-thu"])
    assert out.exit_code == 0, out.output
    assert "Checked 2 services; 0 errors" in out.output
    assert sorted(checker.checked) == ["https://bo.example.gov.vn/0", "https://bo.example.gov.vn/1"]
    out = runner.invoke(args=["crawl", "availability", "--worker"])
    assert out.exit_code == 0 and "Checked 3 services" in out.output
    assert "Checked 0 services" in runner.invoke(args=["crawl", "availability"]).output
    bad = runner.invoke(args=["crawl", "availability", "--agency", "nope"])
    assert bad.exit_code != 0 and "unknown agency" in bad.output


def test_crawl_availability_refuses_a_second_sweep(runner, db, monkeypatch):
    agency = make_agency(db.session)
    make_services(db.session, agency, 1)
    monkeypatch.setattr(crawl, "checker_factory", lambda config: FakeChecker())
    monitor.acquire_lock(db.session, monitor.SWEEP_LOCK, "other-process", timedelta(minutes=5))
    out = runner.invoke(args=["crawl", "availability"])
    assert out.exit_code == 1 and "still running" in out.output


def test_scheduler_jobs_never_overlap(app, db):
    sched = scheduler.add_jobs(BackgroundScheduler(), app, checker_factory=lambda config: FakeChecker())
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {"sweep", "recheck", "rollup", "purge", "alerts", "stats", "open-data", "heartbeat",
                         "feedback-recheck", "feedback-erase"}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True


def test_scheduler_sweep_job_runs_in_app_context_and_skips_while_locked(app, db):
    agency = make_agency(db.session)
    make_services(db.session, agency, 2)
    release = threading.Event()
    started = threading.Event()

    def slow_checker(urls):
        started.set()
        release.wait(10)
        return FakeChecker()(urls)

    sched = scheduler.add_jobs(BackgroundScheduler(), app, checker_factory=lambda config: slow_checker)
    sweep = sched.get_job("sweep").func
    first = threading.Thread(target=sweep)
    first.start()
    assert started.wait(10)
    second_checker = FakeChecker()
    other = scheduler.add_jobs(BackgroundScheduler(), app, checker_factory=lambda config: second_checker)
    other.get_job("sweep").func()  # another process's scheduler: the lock row keeps it out
    assert second_checker.calls == []
    release.set()
    first.join(10)
    assert db.session.execute(select(func.count()).select_from(Check)).scalar_one() == 2
    assert db.session.execute(select(func.count()).select_from(JobLock)).scalar_one() == 0
    for job_id in ("recheck", "rollup", "purge", "alerts", "stats", "feedback-recheck", "feedback-erase"):
        sched.get_job(job_id).func()  # each runs cleanly in its own app context


def test_open_data_job_builds_the_xlsx_before_a_visitor_asks(app, db, tmp_path):
    from openpyxl import load_workbook

    app.config["PORTAL_OPEN_DATA_DIR"] = str(tmp_path)
    agency = make_agency(db.session)
    make_services(db.session, agency, 3)
    sched = scheduler.add_jobs(BackgroundScheduler(), app, checker_factory=lambda config: FakeChecker())
    sched.get_job("open-data").func()
    (built,) = [p for p in tmp_path.rglob("services.xlsx")]
    stamp = built.stat().st_mtime_ns
    response = app.test_client().get("/open-data/services.xlsx")
    assert response.status_code == 200 and built.stat().st_mtime_ns == stamp
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.max_row == 4


def test_max_instances_keeps_a_slow_job_single(app):
    runs = []
    sched = BackgroundScheduler()

    def slow():
        runs.append(time.monotonic())
        time.sleep(0.6)

    sched.add_job(slow, "interval", seconds=0.1, id="slow", **scheduler.JOB_OPTIONS)
    sched.start()
    time.sleep(1.0)
    sched.shutdown(wait=True)
    assert 1 <= len(runs) <= 2
    assert all(b - a >= 0.55 for a, b in zip(runs, runs[1:], strict=False))


def test_services_due_after_a_sweep_get_their_agency_interval(runner, db, monkeypatch):
    agency = make_agency(db.session, interval=240)
    (service,) = make_services(db.session, agency, 1)
    monkeypatch.setattr(crawl, "checker_factory", lambda config: FakeChecker())
    assert runner.invoke(args=["crawl", "availability"]).exit_code == 0
    db.session.expire_all()
    s = db.session.get(Service, service.id)
    delay = s.next_check_at - s.last_checked_at
    assert timedelta(minutes=216) <= delay <= timedelta(minutes=264)


def test_sweep_with_the_real_checker_against_loopback(runner, db):
    """End to end: `portal crawl availability` with portal.crawlers.checker against a loopback server."""
    import http.server
    from pathlib import Path

    page = (Path(__file__).parent / "fixtures" / "pages" / "service_ok_vi.html").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status = 200 if self.path == "/ok" else 503
            body = page if status == 200 else b"<html><body>Service Unavailable</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        agency = make_agency(db.session)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        ok, broken = make_services(db.session, agency, 2)
        ok.url, broken.url = f"{base}/ok", f"{base}/broken"
        db.session.commit()
        out = runner.invoke(args=["crawl", "availability"])
        assert out.exit_code == 0, out.output
        assert "Checked 2 services; 0 errors" in out.output
        db.session.expire_all()
        ok, broken = db.session.get(Service, ok.id), db.session.get(Service, broken.id)
        assert (ok.health, ok.health_reason) == ("up", "ok")
        assert (broken.health, broken.consecutive_failures) == ("unknown", 1)
        reasons = dict(db.session.execute(select(Check.service_id, Check.reason)).all())
        assert reasons == {ok.id: "ok", broken.id: "http_error"}
    finally:
        server.shutdown()
        server.server_close()
