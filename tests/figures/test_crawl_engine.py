"""The stats crawl fetches through the checks' engine: pages in parallel within the per-host limit, Retry-After
honoured, a dead host's remaining pages inferred, results in source order, a cancelled pass leaves the rest."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.crawlers.checker import CheckerConfig
from portal.crawlers.dispatch import SweepCounters, fetch_pages
from portal.models import ApplicationStat, StatSource
from portal.services import figures
from tests.figures.conftest import StatsServer, stats_page

JULY = datetime(2026, 7, 10, 3, 0, tzinfo=UTC)


def config(**changes: object) -> CheckerConfig:
    settings = CheckerConfig(allow_private=True, deadline=5, read_timeout=3, connect_timeout=2, per_host=3,
                             concurrency=20, retry_after_max=3)
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


class ScriptedServer(StatsServer):
    """A loopback server whose paths answer from a script (the last answer repeats), each after `delay`
    seconds; it remembers how many requests it held at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.scripts: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.served: dict[str, int] = {}
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0
        super().__init__()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            count = self.served[path] = self.served.get(path, 0) + 1
        try:
            time.sleep(self.delay)
            script = self.scripts.get(path) or [(404, {}, b"<html><body>404</body></html>")]
            status, headers, body = script[min(count, len(script)) - 1]
            return status, {"Content-Type": "text/html; charset=utf-8", **headers}, body
        finally:
            with self.lock:
                self.in_flight -= 1

    def page(self, path: str, *answers: tuple[int, dict[str, str], str]) -> str:
        self.scripts[path] = [(status, headers, body.encode("utf-8")) for status, headers, body in answers]
        return self.base + path


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add_sources(db, agency, urls: list[str]) -> list[StatSource]:
    sources = [StatSource(agency_id=agency.id, url=url, rule={"extractor": "auto"}, is_enabled=True) for url in urls]
    db.session.add_all(sources)
    db.session.commit()
    return sources


def ok(total: int) -> tuple[int, dict[str, str], str]:
    return 200, {}, stats_page(f"{total:,}".replace(",", "."), "1.000")


def test_pages_of_one_host_are_fetched_together_within_its_limit(db, agencies, scripted):
    scripted.delay = 0.3
    urls = [scripted.page(f"/p{i}", ok(20_000 + i)) for i in range(9)]
    add_sources(db, agencies["ha-noi"], urls)
    summary = figures.run_stats_crawl(db.session, config=config(), now=JULY)
    assert summary.to_dict() == {"sources": 9, "published": 9, "held": 0, "empty": 0, "failed": 0}
    assert scripted.most_in_flight == 3  # in parallel, never past PORTAL_CHECK_PER_HOST
    totals = sorted(db.session.execute(select(ApplicationStat.received_total)).scalars())
    assert totals == [20_000 + i for i in range(9)]


def test_retry_after_is_waited_out_and_the_page_read(db, agencies, scripted):
    url = scripted.page("/busy", (429, {"Retry-After": "1"}, "<html><body>Too many</body></html>"), ok(31_415))
    (source,) = add_sources(db, agencies["ha-noi"], [url])
    summary = figures.run_stats_crawl(db.session, config=config(), now=JULY)
    assert (summary.published, summary.failed) == (1, 0)
    assert scripted.served["/busy"] == 2
    db.session.expire_all()
    assert db.session.get(StatSource, source.id).last_status == "published"


def test_still_refused_after_the_wait_is_rate_limited(db, agencies, scripted):
    url = scripted.page("/closed", (429, {"Retry-After": "1"}, "<html><body>Too many</body></html>"))
    (source,) = add_sources(db, agencies["ha-noi"], [url])
    summary = figures.run_stats_crawl(db.session, config=config(), now=JULY)
    assert summary.failed == 1
    db.session.expire_all()
    assert db.session.get(StatSource, source.id).last_status == "rate_limited"


def test_a_dead_host_fails_its_pages_without_a_request_each(db, agencies, scripted):
    dead = f"http://127.0.0.1:{closed_port()}"
    sources = add_sources(db, agencies["ha-noi"], [f"{dead}/s{i}" for i in range(8)])
    alive = add_sources(db, agencies["da-nang"], [scripted.page("/dn", ok(48_217))])
    summary = figures.run_stats_crawl(db.session, config=config(per_host=1), now=JULY)
    assert summary.to_dict() == {"sources": 9, "published": 1, "held": 0, "empty": 0, "failed": 8}
    db.session.expire_all()
    statuses = {db.session.get(StatSource, s.id).last_status for s in sources}
    assert statuses == {"connection_error"}
    messages = [db.session.get(StatSource, s.id).last_message for s in sources]
    assert sum("inferred from host" in m for m in messages) == 5  # three tried, then the host is given up
    assert db.session.get(StatSource, alive[0].id).last_status == "published"


def test_summary_lines_follow_the_sources_whatever_finished_first(db, agencies, scripted):
    slow, quick = ScriptedServer(delay=0.5), scripted
    try:
        first = add_sources(db, agencies["ha-noi"], [slow.page("/slow", ok(1_000))])[0]
        second = add_sources(db, agencies["da-nang"], [quick.page("/quick", ok(2_000))])[0]
        summary = figures.run_stats_crawl(db.session, config=config(), now=JULY)
    finally:
        slow.close()
    assert [line.split()[1] for line in summary.lines] == [f"#{first.id}", f"#{second.id}"]


def test_one_url_shared_by_two_sources_is_fetched_once(db, agencies, scripted):
    url = scripted.page("/shared", ok(12_345))
    add_sources(db, agencies["ha-noi"], [url, url])
    summary = figures.run_stats_crawl(db.session, config=config(), now=JULY)
    assert (summary.sources, summary.published) == (2, 2)
    assert scripted.served["/shared"] == 1


def test_a_cancelled_pass_leaves_the_pages_not_yet_fetched(db, agencies, scripted):
    scripted.delay = 0.4
    sources = add_sources(db, agencies["ha-noi"], [scripted.page(f"/c{i}", ok(5_000 + i)) for i in range(6)])
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    summary = figures.run_stats_crawl(db.session, config=config(per_host=1), now=JULY, cancel=cancel)
    assert summary.sources < len(sources)
    db.session.expire_all()
    untouched = [s for s in sources if db.session.get(StatSource, s.id).last_run_at is None]
    assert len(untouched) == len(sources) - summary.sources


def test_fetch_pages_keeps_bodies_and_verdicts(scripted):
    good = scripted.page("/good", ok(7))
    counters = SweepCounters()
    results = {r.url: r for r in fetch_pages([good, "ftp://example.org/x", f"{scripted.base}/missing"],
                                             config(), counters=counters)}
    assert "Tổng số hồ sơ" in results[good].body.decode("utf-8")
    assert results[good].check.reason == "ok"
    assert results["ftp://example.org/x"].check.reason == "invalid_url"
    assert results["ftp://example.org/x"].body == b""
    assert results[f"{scripted.base}/missing"].check.reason == "not_found"
