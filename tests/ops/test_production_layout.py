"""The production layout on PostgreSQL: web, scheduler and two crawl workers share one sweep of local URLs."""

from __future__ import annotations

import collections
import http.server
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from portal.extensions import db
from tests.conftest import make_app
from tests.monitoring_helpers import make_agency, make_services
from tests.ops.processes import PORTAL, Lines, free_port, portal, portal_env, stop

SERVICES = 300
PAGE = (Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "service_ok_vi.html").read_bytes()


class Site(http.server.ThreadingHTTPServer):
    """The agencies' servers: every path answers a real service page after a short wait; hits are counted."""

    daemon_threads = True

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        with self.server.lock:
            self.server.hits[self.path] += 1
        time.sleep(0.02)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_web_scheduler_and_two_workers_check_each_service_once(pg_databases, tmp_path):
    if pg_databases is None:
        pytest.skip("PostgreSQL not reachable (set TEST_POSTGRES_URL)")
    url = pg_databases.create()
    site = Site()
    threading.Thread(target=site.serve_forever, daemon=True).start()
    env = portal_env(tmp_path, DATABASE_URL=url, PORTAL_ENV="production", SECRET_KEY="x" * 64,
                     PORTAL_ALLOW_PRIVATE_ADDRESSES="1", PORTAL_SWEEP_BATCH="25", PORTAL_CHECK_PER_HOST="8")
    done = portal("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    app = make_app(url)
    with app.app_context():
        agency = make_agency(db.session)
        make_services(db.session, agency, SERVICES, prefix=f"http://127.0.0.1:{site.server_address[1]}/s/")
        db.engine.dispose()

    port = free_port()
    web = subprocess.Popen([*PORTAL, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    workers = [subprocess.Popen([*PORTAL, "crawl", "availability", "--worker"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    engine = sa.create_engine(url)
    try:
        Lines(web.stdout).wait_for(rf"http://127\.0\.0\.1:{port}/", 60)
        Lines(web.stderr)  # read, so that its pipe never fills
        outputs = [worker.communicate(timeout=180)[0] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs
        counted = [int(out.split("Checked ")[1].split(" ")[0]) for out in outputs]
        deadline = time.monotonic() + 120  # the scheduler's sweep, 5 to 30 s after it starts, takes what is left
        with engine.connect() as conn:
            while conn.execute(sa.text("SELECT count(*) FROM services WHERE last_checked_at IS NULL")).scalar_one():
                assert time.monotonic() < deadline, "services left unchecked"
                time.sleep(1)
            per_service = conn.execute(sa.text("SELECT service_id, count(*) FROM checks GROUP BY service_id")).all()
            outcomes = conn.execute(sa.text("SELECT outcome, count(*) FROM checks GROUP BY outcome")).all()
        assert len(per_service) == SERVICES and {n for _, n in per_service} == {1}
        assert outcomes == [("up", SERVICES)]
        assert len(site.hits) == SERVICES and set(site.hits.values()) == {1}
        assert sum(counted) <= SERVICES
        while (ready := requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, ready.json()
            time.sleep(1)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert f'portal_checks_recent{{outcome="up",reason="ok"}} {float(SERVICES)}' in metrics
        web.terminate()
        assert web.wait(20) == 0
    finally:
        for proc in [web, *workers]:
            stop(proc)
        engine.dispose()
        site.shutdown()
