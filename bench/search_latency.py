"""Search at national scale: API latency over 200 varied queries vs a full-table LIKE scan.

Generates N synthetic services (default 200,000) on SQLite and PostgreSQL, then times
GET /api/v1/services?q=… (p50/p95, with and without diacritics; page cache off, 200 distinct queries),
then GET /api/v1/suggest?q=… with two thirds of each query typed, then the search function itself and, in the
same run, the same search (total and ranked first page)
done with `name_folded LIKE '%word%'` for every word instead of the text index.
Usage: python bench/search_latency.py [--services 200000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import and_, case, func, select  # noqa: E402
from sqlalchemy.orm import contains_eager  # noqa: E402

from bench._common import analyze, backends, database, percentile, summary  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Service  # noqa: E402
from portal.services import seed  # noqa: E402
from portal.services.search import ServiceQuery, search_services  # noqa: E402
from portal.text import fold, lower_nfc, query_tokens  # noqa: E402


def make_queries(n: int, rng: random.Random) -> list[str]:
    """N distinct queries (no answer comes from the page cache): each typed with diacritics and without."""
    queries: list[str] = []
    i = -1
    while len(queries) < n:
        i += 1
        obj = rng.choice(seed._OBJECTS)
        words = obj.split()
        kind = i % 4
        if kind == 0:
            q = f"{rng.choice(seed._ACTIONS)} {obj}"
        elif kind == 1:
            q = " ".join(words[: max(2, len(words) - 1)])
        elif kind == 2:
            q = f"{obj} {rng.choice([x for x in seed._QUALIFIERS if x])}"
        else:
            q = " ".join(words[-2:])
        if q not in queries and fold(q) != q:
            queries += [q, fold(q)]
    return queries[:n]


def like_search(session, q: str, per_page: int = 20):
    """The baseline: the same search as an unindexed LIKE scan on the folded column."""
    tokens = query_tokens(fold(q))
    stmt = select(Service).join(Service.agency).options(contains_eager(Service.agency))
    stmt = stmt.where(Service.status == "active", and_(*[Service.name_folded.like(f"%{t}%") for t in tokens]))
    tier = case(
        (Service.name_lower.like(f"%{lower_nfc(q)}%"), 0),
        (Service.name_folded.like(f"%{' '.join(tokens)}%"), 1),
        else_=2,
    )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    items = session.execute(
        stmt.order_by(tier, func.length(Service.name), Service.name_folded, Service.id).limit(per_page)
    ).unique().scalars().all()
    return total, items


def run(backend: str, services: int, n_queries: int) -> dict[str, float]:
    with database(backend, "search") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_PAGE_CACHE_SECONDS": 0})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            seed.load_agencies(db.session)
            db.session.commit()
            seed.seed_synthetic(db.session, services)
            analyze(db)
            print(f"[{backend}] {services:,} services generated in {time.perf_counter() - started:.1f} s")
            rng = random.Random(7)  # noqa: S311
            queries = make_queries(n_queries, rng)
            client = app.test_client()
            for q in queries[:10]:
                client.get("/api/v1/services", query_string={"q": q})
            api_ms, with_marks, without_marks, totals = [], [], [], []
            for q in queries:
                t0 = time.perf_counter()
                response = client.get("/api/v1/services", query_string={"q": q})
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, response.data
                totals.append(response.get_json()["total"])
                api_ms.append(elapsed)
                (without_marks if q == fold(q) else with_marks).append(elapsed)
            suggest_ms = []
            for q in queries:  # what has been typed so far: two thirds of the query, at least 3 characters
                t0 = time.perf_counter()
                response = client.get("/api/v1/suggest", query_string={"q": q[: max(3, len(q) * 2 // 3)]})
                suggest_ms.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.data
            service_ms = []
            for q in queries:
                t0 = time.perf_counter()
                search_services(db.session, ServiceQuery(q=q))
                service_ms.append((time.perf_counter() - t0) * 1000)
            like_ms = []
            for q in queries:
                t0 = time.perf_counter()
                like_search(db.session, q)
                like_ms.append((time.perf_counter() - t0) * 1000)
            db.session.remove()
            db.engine.dispose()
    print(f"[{backend}] API search, all queries      : {summary(api_ms)}")
    print(f"[{backend}]   with diacritics            : {summary(with_marks)}")
    print(f"[{backend}]   without diacritics         : {summary(without_marks)}")
    print(f"[{backend}] search_services (no HTTP)    : {summary(service_ms)}")
    print(f"[{backend}] API suggest (typed so far)   : {summary(suggest_ms)}  (target p95 < 20 ms: "
          f"{'met' if percentile(suggest_ms, 95) < 20 else 'NOT met'})")
    print(f"[{backend}] LIKE full scan (baseline)    : {summary(like_ms)}")
    print(f"[{backend}] matches per query: median {percentile(totals, 50):.0f}, max {max(totals)}")
    ratio = percentile(like_ms, 50) / percentile(service_ms, 50)
    api_ratio = percentile(like_ms, 50) / percentile(api_ms, 50)
    print(f"[{backend}] speed-up, median LIKE / median search_services (same layer): {ratio:.1f}x (target >= 20x: "
          f"{'met' if ratio >= 20 else 'NOT met'}); LIKE / API incl. HTTP: {api_ratio:.1f}x")
    print(f"[{backend}] API p95 {percentile(api_ms, 95):.1f} ms (target < 50 ms: "
          f"{'met' if percentile(api_ms, 95) < 50 else 'NOT met'})")
    return {"p95": percentile(api_ms, 95), "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    for backend in backends():
        run(backend, args.services, args.queries)


if __name__ == "__main__":
    main()
