"""Benchmark: render one service page (/services/<id>) among 100,000 services.

The service has 90 days of daily roll-ups, 30 days of raw checks (96 a day) and a few incidents; the
page reads its uptime (roll-ups + today's checks), its 90-day availability bar, recent checks and
incidents. The per-process page cache is off, so every request renders the page from the database.
Prints p50/p95 on SQLite and, when reachable, PostgreSQL. Target: p95 < 100 ms.

    python bench/service_page.py [--services 100000] [--runs 300] [--backend all|sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PG_ADMIN_URL, percentile, postgres_reachable  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Check, DailyRollup, Incident, Service, utcnow  # noqa: E402
from portal.services import availability  # noqa: E402
from portal.services.seed import seed_synthetic  # noqa: E402


def fill(services: int) -> int:
    """Seed N services, then give one of them a full history; returns its id."""
    started = time.perf_counter()
    seed_synthetic(db.session, services)
    service_id = db.session.execute(sa.select(func_max_id())).scalar_one() // 2
    now = utcnow()
    today = availability.local_day(now)
    db.session.execute(sa.insert(DailyRollup), [
        {"service_id": service_id, "day": today - timedelta(days=n), "checks": 96, "up": 96 - (n % 7 == 0) * 12,
         "degraded": 0, "down": (n % 7 == 0) * 12, "p50_ms": 420, "p95_ms": 1800,
         "reasons": {"ok": 84, "timeout": 12} if n % 7 == 0 else {"ok": 96}}
        for n in range(1, 91)
    ])
    rows = []
    for n in range(30 * 96):
        down = n % 97 == 0
        rows.append({"service_id": service_id, "checked_at": now - timedelta(minutes=15 * n),
                     "outcome": "down" if down else "up", "reason": "timeout" if down else "ok",
                     "http_status": None if down else 200, "elapsed_ms": 300 + n % 500, "final_url": None})
    # other services' checks in the same table, so the indexes have work to do
    for other in range(1, 2001):
        rows.append({"service_id": other, "checked_at": now - timedelta(minutes=other), "outcome": "up",
                     "reason": "ok", "http_status": 200, "elapsed_ms": 200, "final_url": None})
    db.session.execute(sa.insert(Check), rows)
    db.session.execute(sa.insert(Incident), [
        {"service_id": service_id, "started_at": now - timedelta(days=d), "ended_at": now - timedelta(days=d, hours=-2),
         "reason": "timeout", "state": "down"} for d in range(7, 90, 7)
    ])
    db.session.commit()
    print(f"  seeded {services:,} services + history in {time.perf_counter() - started:.1f} s", flush=True)
    return service_id


def func_max_id():
    return sa.func.max(Service.id)


def run(backend: str, url: str, services: int, runs: int) -> tuple[float, float]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "PORTAL_PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        db.create_all()
        service_id = fill(services)
        db.session.remove()
    client = app.test_client()
    path = f"/services/{service_id}"
    for _ in range(10):
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="day day-') >= 90
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"{backend:10s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  mean {statistics.fmean(timings):6.1f} ms  "
          f"(n={runs}, {services:,} services)  {'OK' if p95 < 100 else 'OVER TARGET'}", flush=True)
    with app.app_context():
        db.engine.dispose()
    return p50, p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    if args.backend in ("all", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite:", flush=True)
            run("sqlite", f"sqlite:///{tmp}/bench.db", args.services, args.runs)
    if args.backend in ("all", "postgresql"):
        if not postgres_reachable():
            print(f"PostgreSQL not reachable at {PG_ADMIN_URL}; skipped")
            return 0
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"bench_service_page_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            print("PostgreSQL:", flush=True)
            run("postgresql", sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False),
                args.services, args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
