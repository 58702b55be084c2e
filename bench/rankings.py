"""Rankings at national scale: every metric × kind × source × period through GET /api/v1/rankings/<metric>.

Seeds N synthetic services (default 200,000) over the 95 agencies of 2016–2025 (a share on the agencies merged
in 2025, a share on sub-units, some retired), 30 days of daily roll-ups for each of them (6 million rows),
crawled application figures and a quarter of reports, plus the 2016 report; on SQLite and PostgreSQL. Then
times each ranking the API offers (each with its counterpart from the other source, as the API answers), at
least --runs times, and prints p50/p95 per backend against the target p95 < 100 ms.
Usage: python bench/rankings.py [--services 200000] [--rollup-services 20000] [--runs 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import (  # noqa: E402
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    case,
    event,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)

from bench._common import analyze, backends, database, percentile, summary  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Agency, ApplicationStat, DailyRollup, QuarterlyReport, Service  # noqa: E402
from portal.models.agency_rollup import BACKFILL, create_rollup_triggers, drop_rollup_triggers  # noqa: E402
from portal.services import ranking_choice, rankings, seed  # noqa: E402
from portal.services.availability import local_day  # noqa: E402

TARGET_MS = 100.0


def populate(services: int, rollup_services: int, rng: random.Random) -> dict[str, int]:
    """The data set; returns counts for the report."""
    session = db.session
    agencies = seed.load_agencies(session)
    seed.load_report_2016(session, agencies)
    session.commit()
    seed.seed_synthetic(session, services)
    former = [a.id for a in agencies.values() if not a.is_current()]
    for position, agency_id in enumerate(former):  # services still registered under merged agencies
        session.execute(update(Service).where(Service.id % 97 == position).values(agency_id=agency_id))
    units = []
    parents = ("ha-noi", "ho-chi-minh", "da-nang", "can-tho", "bo-tai-chinh", "bo-y-te", "bac-ninh", "thua-thien-hue")
    for code in parents:
        parent = agencies[code]
        unit = Agency(code=f"{parent.code}-so-{len(units)}", name=f"Sở {len(units)} · {parent.name}",
                      kind=parent.kind, parent_id=parent.id)
        session.add(unit)
        session.flush()
        units.append(unit.id)
    for position, unit_id in enumerate(units):
        session.execute(update(Service).where(Service.id % 211 == position).values(agency_id=unit_id))
    session.execute(update(Service).where(Service.id % 50 == 7).values(status="retired",
                                                                       retired_at=datetime.now(UTC)))
    session.commit()

    today = local_day(datetime.now(UTC))
    add_rollups(rollup_services, today)
    now = datetime.now(UTC)
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    current = [a for a in agencies.values() if a.is_current()]
    for agency in current:
        for days_ago in (40, 20, 1):
            online = rng.randint(0, 500_000)
            session.add(ApplicationStat(agency_id=agency.id, period=quarter, provenance="crawled",
                                        status="published", received_online=online,
                                        received_total=online + rng.randint(0, 200_000),
                                        observed_at=now - timedelta(days=days_ago)))
        session.add(QuarterlyReport(agency_id=agency.id, period=quarter, services_l3=rng.randint(0, 2000),
                                    services_l4=rng.randint(0, 800), online_l3=rng.randint(0, 100_000),
                                    online_l4=rng.randint(0, 100_000), received_l3=200_000, received_l4=100_000))
    session.commit()
    count = session.execute(select(func.count()).select_from(DailyRollup)).scalar_one()
    return {"agencies": len(agencies) + len(units), "rollups": count}


def add_rollups(rollup_services: int, today: date) -> None:
    """30 days of roll-ups (24 checks a day, some down) for `rollup_services` services, generated in SQL; the
    per-agency totals are filled the way migration 0003 fills them, with the triggers off meanwhile."""
    session = db.session
    connection = session.connection()
    drop_rollup_triggers(connection)
    days = Table("bench_days", MetaData(), Column("n", Integer), Column("day", Date))
    days.create(connection)
    connection.execute(insert(days), [{"n": n, "day": today - timedelta(days=n)} for n in range(1, 31)])
    total = session.execute(select(func.count()).select_from(Service)).scalar_one()
    step = max(total // max(rollup_services, 1), 1)
    down = case(((Service.id * 31 + days.c.n * 17) % 10 == 0, (Service.id + days.c.n) % 24), else_=0)
    connection.execute(insert(DailyRollup).from_select(
        ["service_id", "day", "checks", "up", "degraded", "down", "reasons"],
        select(Service.id, days.c.day, literal(24), 24 - down, literal(0), down, literal({}, DailyRollup.reasons.type))
        .select_from(Service).join(days, true())  # every service × every day
        .where(Service.id % step == 0),
    ))
    days.drop(connection)
    connection.execute(text(BACKFILL))
    create_rollup_triggers(connection)
    session.commit()


def combinations(index: ranking_choice.PeriodIndex) -> list[tuple[str, str, str, str]]:
    return [
        (metric, kind, source, period.key)
        for metric in rankings.METRICS
        for kind in rankings.AGENCY_KINDS
        for period in index.periods
        for source in ranking_choice.SOURCES
        if ranking_choice.alternatives(index, metric).count((source, period.key))
    ]


def run(backend: str, services: int, rollup_services: int, runs: int) -> dict[str, float]:
    with database(backend, "rankings") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_PAGE_CACHE_SECONDS": 0})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            counts = populate(services, rollup_services, random.Random(2016))  # noqa: S311
            analyze(db)
            print(f"[{backend}] {services:,} services, {counts['agencies']} agencies, {counts['rollups']:,} roll-ups "
                  f"generated in {time.perf_counter() - started:.1f} s")
            combos = combinations(ranking_choice.period_index(db.session))
            client = app.test_client()
            statements: list[int] = [0]

            def count(*args):
                statements[0] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            per_combo: dict[tuple, list[float]] = {}
            per_statements: set[int] = set()
            for combo in combos:  # warm-up
                client.get(f"/api/v1/rankings/{combo[0]}", query_string=dict(zip(("kind", "source", "period"),
                                                                                   combo[1:], strict=True)))
            for _ in range(runs):
                for combo in combos:
                    metric, kind, source, period = combo
                    statements[0] = 0
                    t0 = time.perf_counter()
                    response = client.get(f"/api/v1/rankings/{metric}",
                                          query_string={"kind": kind, "source": source, "period": period})
                    elapsed = (time.perf_counter() - t0) * 1000
                    assert response.status_code == 200, (combo, response.data[:300])
                    per_combo.setdefault(combo, []).append(elapsed)
                    per_statements.add(statements[0])
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.remove()
            db.engine.dispose()
    every = [ms for values in per_combo.values() for ms in values]
    p95 = percentile(every, 95)
    print(f"[{backend}] {len(combos)} rankings (metric × kind × source × period) × {runs} runs, "
          f"SQL statements per request: {min(per_statements)}–{max(per_statements)}")
    print(f"[{backend}] all rankings                      : {summary(every)}")
    for source in ranking_choice.SOURCES:
        values = [ms for combo, v in per_combo.items() if combo[2] == source for ms in v]
        print(f"[{backend}]   source={source:<9}                : {summary(values)}")
    for metric in rankings.METRICS:
        values = [ms for combo, v in per_combo.items() if combo[0] == metric for ms in v]
        print(f"[{backend}]   {metric:<28}  : {summary(values)}")
    worst = max(per_combo, key=lambda c: percentile(per_combo[c], 95))
    print(f"[{backend}] slowest: {'/'.join(worst)} p95 {percentile(per_combo[worst], 95):.2f} ms")
    over = sorted("/".join(c) for c, v in per_combo.items() if percentile(v, 95) >= TARGET_MS)
    print(f"[{backend}] rankings with their own p95 >= {TARGET_MS:.0f} ms: {len(over)} of {len(per_combo)}"
          + (f" ({', '.join(over)})" if over else ""))
    print(f"[{backend}] p95 target < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'} ({p95:.2f} ms)")
    return {"p95": p95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=200_000)
    parser.add_argument("--rollup-services", type=int, default=200_000,
                        help="services with 30 days of daily roll-ups (default: every one)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for backend in backends():
        run(backend, args.services, args.rollup_services, args.runs)


if __name__ == "__main__":
    main()
