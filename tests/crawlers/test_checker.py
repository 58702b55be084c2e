from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
import tracemalloc

import pytest

from portal.crawlers import guard
from portal.crawlers.checker import DEFAULT_USER_AGENT, CheckerConfig, CheckResult, check_url, fetch
from portal.crawlers.dispatch import check_many, check_urls


def check(url: str, config: CheckerConfig) -> CheckResult:
    result = check_url(url, config)
    assert isinstance(result, CheckResult)
    return result


@pytest.mark.parametrize(
    ("path", "outcome", "reason", "status"),
    [
        ("/ok", "up", "ok", 200),
        ("/status/500", "down", "http_error", 500),
        ("/status/503", "down", "http_error", 503),
        ("/status/403", "down", "http_error", 403),
        ("/status/404", "down", "not_found", 404),
        ("/status/410", "down", "not_found", 410),
        ("/soft404", "down", "not_found", 200),
        ("/soft404-en", "down", "not_found", 200),
        ("/maintenance", "down", "maintenance", 200),
        ("/maintenance-503", "down", "maintenance", 503),
        ("/gzip-page", "down", "maintenance", 200),
        ("/loop", "down", "too_many_redirects", 302),
        ("/hops/5", "up", "ok", 200),
        ("/hops/6", "down", "too_many_redirects", 302),
        ("/cookie-gate", "up", "ok", 200),
        ("/429", "degraded", "rate_limited", 429),
        ("/cf-challenge", "degraded", "challenge", 403),
        ("/cf-challenge-200", "degraded", "challenge", 200),
        ("/empty", "down", "empty_response", 200),
        ("/blank", "down", "empty_response", 200),
    ],
)
def test_verdicts(web_base, config, path, outcome, reason, status):
    result = check(web_base + path, config)
    assert (result.outcome, result.reason, result.http_status) == (outcome, reason, status), result.detail


def test_ok_result_fields_and_json_keys(web_base, config):
    result = check(web_base + "/hops/2", config)
    assert result.final_url == web_base + "/ok"
    assert result.elapsed_ms >= 0
    assert list(result.to_dict()) == ["url", "outcome", "reason", "http_status", "elapsed_ms", "final_url"]
    assert result.to_dict()["url"] == web_base + "/hops/2"


def test_get_with_honest_user_agent(web_base, config):
    page = fetch(web_base + "/echo-ua", config)
    assert f"UA={DEFAULT_USER_AGENT} M=GET" in page.text


def test_slow(web_base, config):
    config.slow_ms = 150
    result = check(web_base + "/slow?s=0.3", config)
    assert (result.outcome, result.reason) == ("degraded", "slow")
    assert result.elapsed_ms >= 300
    assert check(web_base + "/ok", config).reason == "ok"


def test_read_timeout_on_silent_server(raw_server, config):
    config.read_timeout = 0.5
    started = time.monotonic()
    result = check(raw_server("silent"), config)
    assert (result.outcome, result.reason) == ("down", "timeout")
    assert time.monotonic() - started < 2


def test_deadline_holds_against_drip(raw_server, config):
    config.read_timeout, config.deadline = 1.0, 1.2
    started = time.monotonic()
    result = check(raw_server("drip"), config)
    took = time.monotonic() - started
    assert result.reason == "timeout"
    assert 1.1 < took < 2.0
    assert 1100 <= result.elapsed_ms < 1900
    assert "deadline" in result.detail


def test_connect_timeout(config):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.1)
    config.connect_timeout = 0.5
    try:
        started = time.monotonic()
        result = check(f"http://127.0.0.1:{port}/", config)
        assert result.reason == "timeout", result.detail
        assert time.monotonic() - started < 2
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_dns_error(config):
    result = check("http://no-such-host.invalid/", config)
    assert (result.outcome, result.reason, result.http_status) == ("down", "dns_error", None)


def test_connection_refused(config, closed_port):
    assert check(f"http://127.0.0.1:{closed_port}/", config).reason == "connection_error"


@pytest.mark.parametrize("behaviour", ["reset", "close", "garbage"])
def test_connection_broken(raw_server, config, behaviour):
    result = check(raw_server(behaviour), config)
    assert (result.outcome, result.reason) == ("down", "connection_error"), result.detail


def test_blocked_loopback_without_permission(web_base):
    config = CheckerConfig()
    port = web_base.rsplit(":", 1)[1]
    for url in (
        f"{web_base}/ok",
        f"http://localhost:{port}/ok",
        f"http://2130706433:{port}/ok",
        f"http://0x7f000001:{port}/ok",
        f"http://127.1:{port}/ok",
        f"http://[::ffff:127.0.0.1]:{port}/ok",
    ):
        result = check(url, config)
        assert (result.outcome, result.reason, result.http_status) == ("down", "blocked_address", None), url


def test_numeric_spelling_reaches_server_when_allowed(web_base, config):
    port = web_base.rsplit(":", 1)[1]
    assert check(f"http://2130706433:{port}/ok", config).reason == "ok"


def test_redirect_is_guarded_again(web_base, monkeypatch):
    real = guard.is_blocked_ip
    monkeypatch.setattr(guard, "is_blocked_ip", lambda ip: str(ip) != "127.0.0.1" and real(ip))
    config = CheckerConfig(connect_timeout=1, read_timeout=1, deadline=3)
    assert check(web_base + "/ok", config).reason == "ok"
    result = check(web_base + "/redirect?to=http://169.254.169.254/latest/meta-data/", config)
    assert (result.reason, result.http_status) == ("blocked_address", 302)
    result = check(web_base + "/redirect?to=http://0xa9fea9fe/", config)
    assert result.reason == "blocked_address"


def test_redirect_to_other_scheme_is_invalid(web_base, config):
    result = check(web_base + "/redirect?to=ftp://example.org/file", config)
    assert result.reason == "invalid_url"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "javascript:alert(1)",
        "garbage",
        "",
        "http://",
        "http:///x",
        "http://exa mple.org/",
        "http://example.org:99999/",
        "mailto:a@b.vn",
    ],
)
def test_invalid_url(url, config):
    result = check(url, config)
    assert (result.outcome, result.reason, result.http_status, result.final_url) == (
        "down",
        "invalid_url",
        None,
        None,
    )


def test_endless_body_is_capped_and_classified(web_base, config):
    started = time.monotonic()
    page = fetch(web_base + "/endless", config)
    assert page.check.reason == "ok"
    assert len(page.body) == config.max_body
    assert time.monotonic() - started < 5


def test_gzip_bomb_is_capped_after_decompression(web_base, config):
    tracemalloc.start()
    try:
        page = fetch(web_base + "/gzip-bomb", config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert page.check.reason == "ok"
    assert len(page.body) == config.max_body
    assert page.body.startswith(b"<!doctype html>")
    assert peak < 40_000_000


@pytest.mark.parametrize("path", ["/lying-utf8", "/lying-latin1", "/cp1258-meta"])
def test_lying_or_legacy_charset(web_base, config, path):
    page = fetch(web_base + path, config)
    assert "Hệ thống đang bảo trì" in page.text
    assert page.check.reason == "maintenance"
    assert check(web_base + path, config).reason == "maintenance"


def test_fetch_returns_decoded_page(web_base, config):
    page = fetch(web_base + "/ok", config)
    assert page.http_status == 200
    assert page.content_type.startswith("text/html")
    assert page.encoding == "utf-8"
    assert "Đăng ký hộ chiếu" in page.text
    assert page.final_url == web_base + "/ok"


def test_check_many_streams_all_with_limits(web_base, config):
    config.concurrency, config.per_host = 8, 2
    urls = [f"{web_base}/slow?s=0.05&i={i}" for i in range(40)] + ["ftp://x"]

    async def run() -> list[CheckResult]:
        return [r async for r in check_many(iter(urls), config)]

    started = time.monotonic()
    results = asyncio.run(run())
    took = time.monotonic() - started
    assert sorted(r.url for r in results) == sorted(urls)
    assert {r.reason for r in results} == {"ok", "invalid_url"}
    assert took >= 40 * 0.05 / 2 * 0.9


def test_check_urls_sync_generator_can_stop_early(web_base, config):
    urls = (f"{web_base}/ok?i={i}" for i in range(10_000))
    gen = check_urls(urls, config)
    first = [next(gen) for _ in range(5)]
    gen.close()
    assert all(r.reason == "ok" for r in first)


def test_config_from_env():
    config = CheckerConfig.from_env(
        {
            "PORTAL_CHECK_CONCURRENCY": "160",
            "PORTAL_CHECK_PER_HOST": "2",
            "PORTAL_CHECK_CONNECT_TIMEOUT": "1.5",
            "PORTAL_CHECK_READ_TIMEOUT": "3",
            "PORTAL_CHECK_DEADLINE": "7",
            "PORTAL_CHECK_SLOW_MS": "900",
            "PORTAL_ALLOW_PRIVATE_ADDRESSES": "Yes",
        }
    )
    assert (config.concurrency, config.per_host, config.connect_timeout, config.read_timeout) == (
        160,
        2,
        1.5,
        3.0,
    )
    assert (config.deadline, config.slow_ms, config.allow_private) == (7.0, 900, True)
    defaults = CheckerConfig.from_env({})
    assert defaults == CheckerConfig()
    assert dataclasses.asdict(defaults)["connect_timeout"] == 5.0
    assert (defaults.read_timeout, defaults.deadline, defaults.slow_ms) == (10.0, 20.0, 3000)
    assert (defaults.concurrency, defaults.per_host, defaults.max_redirects, defaults.max_body) == (
        100,
        4,
        5,
        1_000_000,
    )
    assert CheckerConfig.from_env({"PORTAL_ALLOW_PRIVATE_ADDRESSES": "0"}).allow_private is False
    with pytest.raises(ValueError, match="PORTAL_CHECK_DEADLINE"):
        CheckerConfig.from_env({"PORTAL_CHECK_DEADLINE": "soon"})
