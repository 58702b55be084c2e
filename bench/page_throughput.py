"""Page throughput: the search page under gunicorn (2 workers) vs a hello-world Flask app, same settings.

Builds an SQLite database with the demo data plus N synthetic services, starts gunicorn for each app
on loopback, and drives each with the same bounded asyncio load generator (aiohttp, C connections,
D seconds), alternating the two apps R times. Prints requests/s and the ratios (targets: >= 40 % with the
page cache; >= 25 % without it, where every request asks a different query: the citizens' queries of
bench/search_relevance.py and generated ones, so the page cache does not help). The list of queries is asked
over and over, so the kept result rows (a row per procedure, shared by the queries that show it) serve more on
later passes than on the first; the run prints how much they could serve on the first.
Usage: python bench/page_throughput.py [--services 50000] [--seconds 8] [--connections 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import OUT  # noqa: E402

QUERIES = ["dang ky khai sinh", "cấp giấy phép xây dựng", "ho chieu", "the bao hiem y te", "giấy phép lái xe",
           "chung chi hanh nghe duoc", "đăng ký kết hôn", "ly lich tu phap", "thanh lap doanh nghiep", "ma so thue"]


def distinct_queries() -> list[str]:
    """Different queries, each asked once per pass: the relevance set and generated catalogue queries."""
    import random

    from bench.search_latency import make_queries
    from bench.search_relevance import QUERIES as CITIZENS

    queries = list(dict.fromkeys([q for q, _, _ in CITIZENS] + make_queries(600, random.Random(11))))  # noqa: S311
    return queries


def row_reuse(url: str, queries: list[str]) -> tuple[int, int]:
    """Result rows the distinct queries' first pages show, and how many of them are different: what the kept
    rows (result_rows) can serve on a first pass over the queries, before any page repeats."""
    from werkzeug.datastructures import MultiDict

    from portal import create_app
    from portal.extensions import db
    from portal.services.search import parse_query
    from portal.services.search_groups import search_groups

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    shown, different = 0, set()
    with app.test_request_context():
        for q in queries:
            for group in search_groups(db.session, parse_query(MultiDict({"q": q}), default_per_page=20)).groups:
                shown += 1
                different.add((group.name, tuple((s.id, s.level, s.health) for s in group.services)))
        db.engine.dispose()
    return shown, len(different)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_database(services: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "throughput.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    from portal import create_app
    from portal.extensions import db
    from portal.services import seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        seed.seed_demo(db.session)
        if services:
            seed.seed_synthetic(db.session, services)
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return url


def start_gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn for {app_spec} did not start: {proc.stderr.read().decode()[-2000:]}")


async def load(base: str, paths: list[str], seconds: float, connections: int) -> tuple[float, int, int]:
    """Requests per second over `seconds`, with `connections` concurrent keep-alive clients."""
    done = errors = 0
    stop_at = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def client(offset: int) -> None:
            nonlocal done, errors
            i = offset
            while time.monotonic() < stop_at:
                async with session.get(base + paths[i % len(paths)]) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                done += 1
                i += 1

        started = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(connections)))
        elapsed = time.monotonic() - started
    return done / elapsed, done, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    url = build_database(args.services)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    hello_port, cached_port, uncached_port = free_port(), free_port(), free_port()
    search_paths = [f"/services?q={q}" for q in QUERIES]
    distinct_paths = [f"/services?{urlencode({'q': q})}" for q in distinct_queries()]
    servers = {
        "hello world": (start_gunicorn("bench.hello_app:app", hello_port, env), hello_port, ["/"]),
        "search page (30 s page cache)": (
            start_gunicorn("wsgi:app", cached_port, {**env, "PORTAL_PAGE_CACHE_SECONDS": "30"}), cached_port, None),
        "search page (no page cache)": (
            start_gunicorn("wsgi:app", uncached_port, {**env, "PORTAL_PAGE_CACHE_SECONDS": "0"}), uncached_port,
            distinct_paths),
    }
    results: dict[str, list[float]] = {name: [] for name in servers}
    try:
        for _, port, paths in servers.values():
            asyncio.run(load(f"http://127.0.0.1:{port}", paths or search_paths, 2, args.connections))
        for _ in range(args.rounds):
            for name, (_, port, paths) in servers.items():
                rps, n, err = asyncio.run(
                    load(f"http://127.0.0.1:{port}", paths or search_paths, args.seconds, args.connections))
                results[name].append(rps)
                print(f"{name:31}: {rps:8.1f} req/s ({n} requests, {err} errors)")
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(10)
    hello = statistics.median(results["hello world"])
    for name, target in zip(list(servers)[1:], (0.4, 0.25), strict=True):
        ratio = statistics.median(results[name]) / hello
        print(f"{name} / hello world (medians): {100 * ratio:.1f} %  (target >= {100 * target:.0f} %: "
              f"{'met' if ratio >= target else 'NOT met'})")
    shown, different = row_reuse(url, distinct_queries())
    print(f"result rows on the distinct queries' pages: {shown:,}, {different:,} different — on a first pass a kept "
          f"row can serve at most {100 * (1 - different / shown):.0f} % of them; later passes repeat the queries")
    print(f"— {args.services:,} synthetic services + demo data, gunicorn 2 sync workers, "
          f"{args.connections} connections; cached: {len(QUERIES)} queries in rotation; "
          f"uncached: {len(distinct_paths)} distinct queries")


if __name__ == "__main__":
    main()
