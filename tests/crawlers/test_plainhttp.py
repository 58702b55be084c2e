"""The lean http:// client: messy but readable answers are read, broken ones give connection_error with a detail,
connections are reused only when the server allows, and aiohttp (https, PORTAL_CHECK_CLIENT=aiohttp) agrees."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from portal.crawlers.checker import CheckerConfig, CheckResult, check_url, fetch
from portal.crawlers.dispatch import check_many
from portal.crawlers.plainhttp import MAX_HEAD, ResponseError, charset_of, parse_head, set_cookies
from tests.crawlers.servers import OK_PAGE, LoopThread, listening_socket

PAGE = OK_PAGE.encode()
Step = bytes | float | None  # bytes written, seconds slept, None: close the connection


def ok_response(body: bytes = PAGE, extra: str = "", length: bool = True) -> bytes:
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + extra
    if length:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def chunked(body: bytes, size: int = 7, extension: str = "", trailer: str = "") -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        out += f"{len(piece):x}{extension}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n" + trailer.encode() + b"\r\n"


@dataclasses.dataclass
class Script:
    """A raw loopback server: each request on a connection gets answer(request, number) step by step."""

    answer: Callable[[bytes, int], list[Step]]
    url: str = ""
    connections: int = 0
    requests: list[bytes] = dataclasses.field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    request = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.requests.append(request)
                for step in self.answer(request, len(self.requests)):
                    if step is None:
                        return
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                    else:
                        writer.write(step)
                        await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
def script(loop_thread: LoopThread) -> Iterator[Callable[[Callable[[bytes, int], list[Step]]], Script]]:
    servers: list[asyncio.Server] = []

    def start(answer: Callable[[bytes, int], list[Step]]) -> Script:
        made = Script(answer)

        async def serve() -> asyncio.Server:
            return await asyncio.start_server(made.handle, sock=listening_socket())

        server = loop_thread.run(serve())
        servers.append(server)
        made.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return made

    yield start
    for server in servers:
        loop_thread.loop.call_soon_threadsafe(server.close)


def always(*steps: Step) -> Callable[[bytes, int], list[Step]]:
    return lambda _request, _n: list(steps)


def check(url: str, config: CheckerConfig) -> CheckResult:
    return check_url(url, config)


# -- the head parser


def test_head_without_reason_phrase_and_with_lf_only_line_ends():
    version, status, reason, headers = parse_head(b"HTTP/1.1 200\nContent-Type: text/html\nX-A:  1 ")
    assert (version, status, reason, headers["content-type"], headers["X-A"]) == ((1, 1), 200, "", "text/html", "1")
    assert parse_head(b"HTTP/1.0 404 Not   Found  \r\n")[1:3] == (404, "Not   Found")


def test_head_keeps_repeated_headers_and_joins_folded_ones():
    _v, _s, _r, headers = parse_head(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Long: one\r\n  two\r\n\tthree\r\n"
        b"no colon here\r\nBad Name: x\r\n: empty\r\nX-Ok: yes"
    )
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert headers["x-long"] == "one two three"
    assert headers["X-Ok"] == "yes"
    assert "Bad Name" not in headers and "" not in headers


@pytest.mark.parametrize(
    "line", [b"garbage", b"HTTP/2.0 200 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 abc", b"ICY 200 OK", b""]
)
def test_head_that_is_not_http_1(line):
    with pytest.raises(ResponseError, match="status line"):
        parse_head(line + b"\r\nContent-Length: 0")


def test_head_with_too_many_lines():
    with pytest.raises(ResponseError, match="header lines"):
        parse_head(b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 300)


def test_charset_and_cookies():
    assert charset_of("text/html; Charset=\"windows-1258\"") == "windows-1258"
    assert charset_of("text/html") is None and charset_of(None) is None
    _v, _s, _r, headers = parse_head(
        b'HTTP/1.1 200 OK\r\nSet-Cookie: sid="abc"; Path=/; HttpOnly\r\nSet-Cookie: =nameless\r\n'
        b"Set-Cookie: noequals\r\nSet-Cookie: bad name=1\r\nSet-Cookie: ok=2"
    )
    assert set_cookies(headers) == [("sid", "abc"), ("ok", "2")]


# -- messy answers that are still HTTP


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (ok_response().replace(b"\r\n", b"\n", 4), PAGE),
        (ok_response().replace(b"\r\n", b"\n", 3), PAGE),
        (ok_response().replace(b"200 OK", b"200"), PAGE),
        (ok_response(extra="X-Dup: 1\r\nX-Dup: 2\r\nX-Fold: a\r\n b\r\n"), PAGE),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok_response(), PAGE),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(PAGE), PAGE),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(PAGE, 50, ";ext=1", "X-Trailer: t\r\n"),
         PAGE),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(PAGE).replace(b"\r\n", b"\n"),
         PAGE),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (ok_response(length=False, extra="Connection: close\r\n"), PAGE),
        (b"HTTP/1.0 200 OK\r\n\r\n" + PAGE, PAGE),
    ],
    ids=["lf-only", "mixed-line-ends", "no-reason", "duplicate-and-folded", "interim-answers", "chunked",
         "chunked-ext-trailer", "chunked-lf-only", "repeated-length", "until-close", "http-1.0"],
)
def test_messy_answers_are_read(script, config, answer, body):
    server = script(always(answer, None))
    page = fetch(server.url + "/", config)
    assert (page.http_status, page.check.reason, page.body) == (200, "ok", body), page.check.detail


def test_answer_written_byte_by_byte(script, config):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n" + chunked(PAGE, 9)
    server = script(always(*[answer[i:i + 1] for i in range(len(answer))], None))
    page = fetch(server.url + "/", config)
    assert (page.check.reason, page.body) == ("ok", PAGE)


def test_gzip_chunked_body_is_decoded(script, config):
    packed = gzip.compress(PAGE)
    server = script(always(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(packed, 11), None))
    page = fetch(server.url + "/", config)
    assert (page.check.reason, page.body) == ("ok", PAGE)


def test_body_over_the_cap_is_cut_and_the_connection_closed(script, config):
    config = dataclasses.replace(config, max_body=1000)
    server = script(always(ok_response(PAGE + b"x" * 5000), ok_response(), None))
    page = fetch(server.url + "/", config)
    assert page.check.reason == "ok" and len(page.body) == 1000


# -- broken answers


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (MAX_HEAD + 10), "head over"),
        (b"HTTP/1.1 OK\r\n\r\n", "status line"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nshort", "before the body ended"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", "longer than its size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "before the body ended"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!", "error"),
        (b"HTTP/1.1 200 O", "in the middle of the response head"),
        (b"", "before answering"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"),
    ],
    ids=["huge-head", "no-status", "not-http", "cut-short", "two-lengths", "negative-length", "bad-chunk-size",
         "chunk-too-long", "chunked-cut-short", "bad-gzip", "head-cut-short", "nothing", "101"],
)
def test_broken_answers_are_connection_errors(script, config, answer, detail):
    server = script(always(answer, None))
    started = time.monotonic()
    result = check(server.url + "/", config)
    assert (result.outcome, result.reason) == ("down", "connection_error"), result.detail
    assert detail in result.detail
    assert time.monotonic() - started < 1.5


def test_read_timeout_in_the_middle_of_the_body(script, config):
    config.read_timeout = 0.4
    server = script(always(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart", 5.0, None))
    result = check(server.url + "/", config)
    assert (result.reason, result.http_status) == ("timeout", 200)
    assert result.elapsed_ms < 1500


def test_interim_answers_alone_time_out(script, config):
    config.read_timeout = 0.4
    server = script(always(b"HTTP/1.1 100 Continue\r\n\r\n", 5.0, None))
    assert check(server.url + "/", config).reason == "timeout"


# -- the request and its connection


def test_request_line_and_headers(script, config):
    server = script(always(ok_response()))
    assert check(server.url + "/a%20b/c?q=1&r=%C3%A1#frag", config).reason == "ok"
    lines = server.requests[0].decode().split("\r\n")
    port = server.url.rsplit(":", 1)[1]
    assert lines[0] == "GET /a%20b/c?q=1&r=%C3%A1 HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    assert headers == {
        "Host": f"127.0.0.1:{port}",
        "User-Agent": config.user_agent,
        "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
        "Accept-Language": "vi,en;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }


def test_cookies_follow_redirects_on_the_same_host(script, config):
    def answer(request: bytes, _n: int) -> list[Step]:
        if b"Cookie: seen=1; lang=vi" in request:
            return [ok_response()]
        return [b'HTTP/1.1 302 Found\r\nLocation: /again\r\nSet-Cookie: seen="1"; Path=/\r\n'
                b"Set-Cookie: lang=vi\r\nContent-Length: 0\r\n\r\n"]

    server = script(answer)
    result = check(server.url + "/", config)
    assert (result.reason, result.final_url) == ("ok", server.url + "/again")
    assert server.connections == 1


def test_redirect_loop_and_too_many_hops(script, config):
    loop = script(always(b"HTTP/1.1 301 Moved\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"))
    assert check(loop.url + "/", config).reason == "too_many_redirects"
    hops = script(lambda request, n: [f"HTTP/1.1 302 Found\r\nLocation: /{n}\r\nContent-Length: 0\r\n\r\n".encode()])
    result = check(hops.url + "/", dataclasses.replace(config, max_redirects=3))
    assert (result.reason, result.http_status) == ("too_many_redirects", 302)


def test_retry_after_of_a_429(script, config):
    server = script(always(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n"))
    result = check(server.url + "/", config)
    assert (result.reason, result.retry_after) == ("rate_limited", 7.0)


def run_many(urls: list[str], config: CheckerConfig) -> list[CheckResult]:
    async def run() -> list[CheckResult]:
        return [r async for r in check_many(iter(urls), dataclasses.replace(config, processes=1))]

    return asyncio.run(run())


def test_keep_alive_connections_are_reused(script, config):
    server = script(always(ok_response()))
    results = run_many([f"{server.url}/{i}" for i in range(12)], dataclasses.replace(config, per_host=2))
    assert {r.reason for r in results} == {"ok"}
    assert server.connections <= 2


@pytest.mark.parametrize("answer", [ok_response(extra="Connection: close\r\n"), b"HTTP/1.0 200 OK\r\n\r\n" + PAGE,
                                    ok_response() + b"unasked"])
def test_connections_the_server_ends_are_not_reused(script, config, answer):
    server = script(always(answer, None) if b"unasked" not in answer else always(answer))
    results = run_many([f"{server.url}/{i}" for i in range(6)], dataclasses.replace(config, per_host=1))
    assert {r.reason for r in results} == {"ok"}
    assert server.connections == 6


def test_idle_connection_closed_by_the_server_is_replaced(script, config):
    server = script(always(ok_response(), 0.05, None))  # keep-alive promised, then closed after a moment

    async def run() -> list[CheckResult]:
        from portal.crawlers.checker import Checker

        async with Checker(config) as checker:
            first = await checker.check(server.url + "/1")
            await asyncio.sleep(0.3)
            return [first, await checker.check(server.url + "/2")]

    assert [r.reason for r in asyncio.run(run())] == ["ok", "ok"]
    assert server.connections == 2


def test_only_aiohttp_when_asked_and_never_for_plain_http():
    code = (
        "import sys\n"
        "from portal.crawlers.checker import CheckerConfig, check_url\n"
        "print(check_url('http://127.0.0.1:9/', CheckerConfig(allow_private=True, connect_timeout=1)).reason,"
        " 'aiohttp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["connection_error", "False"]


@pytest.mark.parametrize(
    "path",
    ["/ok", "/status/500", "/status/404", "/soft404", "/maintenance-503", "/gzip-page", "/loop", "/hops/5",
     "/hops/6", "/cookie-gate", "/429", "/cf-challenge", "/empty", "/lying-utf8", "/cp1258-meta"],
)
def test_both_clients_agree(web_base, config, path):
    lean = check(web_base + path, config)
    other = check(web_base + path, dataclasses.replace(config, client="aiohttp"))
    fields = ("outcome", "reason", "http_status", "final_url", "retry_after")
    assert [getattr(lean, f) for f in fields] == [getattr(other, f) for f in fields]


def test_client_setting():
    assert CheckerConfig.from_env({"PORTAL_CHECK_CLIENT": "AIOHTTP"}).client == "aiohttp"
    assert CheckerConfig.from_env({}).client == "lean"
    with pytest.raises(ValueError, match="PORTAL_CHECK_CLIENT"):
        CheckerConfig.from_env({"PORTAL_CHECK_CLIENT": "curl"})


def test_transfer_codings_over_two_headers(script, config):
    server = script(always(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
                           b"Content-Encoding: gzip\r\n\r\n" + chunked(gzip.compress(PAGE), 16)))
    page = fetch(server.url + "/", config)
    assert (page.check.reason, page.body) == ("ok", PAGE)


def _answers(*addresses: str) -> Callable[[str, int, int], list]:
    calls: list[str] = []

    def lookup(host: str, port: int, _family: int) -> list:
        calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_a_name_is_looked_up_once_and_an_unreachable_answer_skipped(script, config):
    server = script(always(ok_response()))
    port = server.url.rsplit(":", 1)[1]
    lookup = _answers("::1", "127.0.0.1")

    async def run() -> list[CheckResult]:
        urls = iter([f"http://portal.example:{port}/{i}" for i in range(5)])
        return [r async for r in check_many(urls, dataclasses.replace(config, processes=1), lookup=lookup)]

    results = asyncio.run(run())
    assert {r.reason for r in results} == {"ok"}
    assert lookup.calls == ["portal.example"]  # type: ignore[attr-defined]
    assert f"Host: portal.example:{port}" in server.requests[0].decode()


def test_a_name_with_a_private_answer_is_blocked(script):
    server = script(always(ok_response()))
    port = server.url.rsplit(":", 1)[1]

    async def run() -> list[CheckResult]:
        config = CheckerConfig(connect_timeout=1, read_timeout=1, deadline=2, processes=1)
        return [r async for r in check_many([f"http://portal.example:{port}/"], config,
                                            lookup=_answers("203.0.113.9", "127.0.0.1"))]

    [result] = asyncio.run(run())
    assert (result.reason, result.http_status) == ("blocked_address", None)
    assert server.connections == 0


def test_expiry_raises_timeout_but_lets_an_outer_cancel_through():
    from portal.crawlers.plainhttp import Expiry

    async def run() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            async with Expiry(loop, 0.01):
                await asyncio.sleep(1)

        async def inner() -> None:
            async with Expiry(loop, 5):
                await asyncio.sleep(1)

        task = asyncio.ensure_future(inner())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with Expiry(loop, 0.5) as quick:
            await asyncio.sleep(0.01)
        return quick.expired, task.cancelled()

    assert asyncio.run(run()) == (False, True)
