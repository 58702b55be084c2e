"""The checker's per-host engine: fairness, Retry-After, adaptive concurrency, host-wide failures, resolution."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time

import pytest
from aiohttp import web

from portal.crawlers.checker import retry_after_seconds
from portal.crawlers.dispatch import SweepCounters, check_urls
from tests.crawlers.servers import start_app


class Host:
    """A loopback host whose answers a test scripts; counts requests and the most seen at once."""

    def __init__(self, loop_thread, answer, delay: float = 0.0):
        self.answer, self.delay = answer, delay
        self.requests = 0
        self.in_flight = 0
        self.concurrency: list[int] = []
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner, port = loop_thread.run(start_app(app))
        self.base = f"http://127.0.0.1:{port}"

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.in_flight += 1
        self.concurrency.append(self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self.answer(self.requests, request)
        finally:
            self.in_flight -= 1


def page(n=0, request=None) -> web.Response:
    return web.Response(text="<html><title>Dịch vụ công</title><body><h1>Nộp hồ sơ trực tuyến</h1></body></html>",
                        content_type="text/html")


@pytest.fixture
def host(loop_thread):
    made: list[Host] = []

    def make(answer=page, delay=0.0) -> Host:
        made.append(Host(loop_thread, answer, delay))
        return made[-1]

    yield make
    for h in made:
        loop_thread.run(h.runner.cleanup())


def test_a_host_with_2000_queued_urls_does_not_delay_a_host_with_5(host, config):
    busy, small = host(delay=0.05), host()
    urls = [f"{busy.base}/a/{i}" for i in range(2000)] + [f"{small.base}/b/{i}" for i in range(5)]
    # one process: the dispatcher's own fairness (shared out, the two hosts would be in different workers)
    cfg = dataclasses.replace(config, concurrency=8, per_host=2, processes=1)
    started = time.monotonic()
    seen_small, order = 0, 0
    for order, result in enumerate(check_urls(urls, cfg), 1):  # noqa: B007
        assert result.reason == "ok"
        seen_small += result.url.startswith(small.base)
        if seen_small == 5:
            break
    took = time.monotonic() - started
    assert seen_small == 5
    assert took < 2.0  # the busy host alone needs 2000 × 50 ms / 2 = 50 s
    assert order < 60
    assert max(busy.concurrency) <= 2


def test_retry_after_makes_the_host_wait_then_the_check_is_retried(host, config):
    def limited_once(n, request):
        if n == 1:
            return web.Response(status=429, text="slow down", headers={"Retry-After": "1"})
        return page()

    flaky = host(limited_once)
    counters = SweepCounters()
    started = time.monotonic()
    [result] = list(check_urls([flaky.base + "/x"], config, counters=counters))
    assert (result.outcome, result.reason, result.http_status) == ("up", "ok", 200)
    assert time.monotonic() - started >= 1.0
    assert flaky.requests == 2 and counters.retried == 1
    assert counters.throttled_hosts == {flaky.base.removeprefix("http://")}


def test_still_refused_after_the_wait_is_rate_limited_and_degraded(host, config):
    always = host(lambda n, r: web.Response(status=503, text="busy", headers={"Retry-After": "1"}))
    too_long = host(lambda n, r: web.Response(status=429, text="busy", headers={"Retry-After": "3600"}))
    results = {r.url: r for r in check_urls([always.base + "/a", too_long.base + "/b"], config)}
    assert (results[always.base + "/a"].outcome, results[always.base + "/a"].reason) == ("degraded", "rate_limited")
    assert always.requests == 2
    assert results[too_long.base + "/b"].reason == "rate_limited"
    assert too_long.requests == 1  # a wait longer than PORTAL_CHECK_RETRY_AFTER_MAX is not waited for
    # still refused after waiting: the host's other URLs are not waited for again
    counters = SweepCounters()
    started = time.monotonic()
    more = list(check_urls([f"{always.base}/{i}" for i in range(20)], config, counters=counters))
    assert {(r.outcome, r.reason) for r in more} == {("degraded", "rate_limited")}
    assert time.monotonic() - started < 3 and counters.inferred >= 15


def test_retry_after_header_forms():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == pytest.approx(30)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_concurrency_shrinks_on_errors_and_grows_back(host, config):
    def failing_first(n, request):
        return web.Response(status=500, text="error") if n <= 12 else page()

    sick = host(failing_first, delay=0.03)
    cfg = dataclasses.replace(config, concurrency=20, per_host=4)
    results = list(check_urls([f"{sick.base}/{i}" for i in range(120)], cfg))
    assert len(results) == 120
    assert max(sick.concurrency[:4]) == 4  # starts at PORTAL_CHECK_PER_HOST
    assert max(sick.concurrency[8:16]) <= 2  # halved by the errors
    assert max(sick.concurrency[-30:]) == 4  # back to the limit once it answers well


def test_host_wide_failures_are_inferred_for_the_rest_of_its_urls(host, config, closed_port):
    good = host()
    dead = f"http://127.0.0.1:{closed_port}"
    urls = [f"{dead}/{i}" for i in range(10)] + [f"{good.base}/{i}" for i in range(3)]
    counters = SweepCounters()
    results = list(check_urls(urls, dataclasses.replace(config, per_host=1), counters=counters))
    on_dead = [r for r in results if r.url.startswith(dead)]
    assert {r.reason for r in on_dead} == {"connection_error"}
    assert sum(not r.inferred for r in on_dead) == 3
    assert sum(r.inferred for r in on_dead) == 7 == counters.inferred
    assert all(r.elapsed_ms == 0 and "inferred from host" in r.detail for r in on_dead if r.inferred)
    assert counters.failed_hosts == {f"127.0.0.1:{closed_port}": "connection_error"}
    assert [r.reason for r in results if r.url.startswith(good.base)] == ["ok"] * 3
    # a confirming re-check asks every URL itself
    again = list(check_urls(urls[:10], dataclasses.replace(config, host_failures=0)))
    assert not any(r.inferred for r in again) and len(again) == 10


def test_a_resolver_that_never_answers_does_not_outlast_the_deadline(config):
    asked = threading.Event()

    def never(host, port, family):
        asked.set()
        threading.Event().wait()

    cfg = dataclasses.replace(config, allow_private=False, connect_timeout=1, deadline=2)
    started = time.monotonic()
    [result] = list(check_urls(["http://dvc.example.gov.vn/"], cfg, lookup=never))
    assert asked.is_set()
    assert result.reason == "dns_error" and result.outcome == "down"
    assert time.monotonic() - started < 2.5
    urls = [f"http://host{i}.example.gov.vn/p" for i in range(24)]
    started = time.monotonic()
    results = list(check_urls(urls, cfg, lookup=never))
    assert len(results) == 24 and {r.reason for r in results} <= {"dns_error", "timeout"}
    assert time.monotonic() - started < 2 * cfg.deadline + 1


def test_each_host_is_resolved_once_through_the_guard(host, config):
    target = host()
    port = int(target.base.rsplit(":", 1)[1])
    lookups: list[str] = []

    def loopback(name, port_, family):
        lookups.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))]

    urls = [f"http://dvc.example.gov.vn:{port}/{i}" for i in range(10)]
    assert {r.reason for r in check_urls(urls, config, lookup=loopback)} == {"ok"}
    assert lookups == ["dvc.example.gov.vn"]
    refused = list(check_urls(urls[:1], dataclasses.replace(config, allow_private=False), lookup=loopback))
    assert refused[0].reason == "blocked_address"  # the vetted address is the one connected to
