"""Availability checker: guarded, bounded, polite GETs with verdicts from the check-reason vocabulary.

Plain http:// goes through the lean client (portal.crawlers.plainhttp); https://, and everything when
PORTAL_CHECK_CLIENT=aiohttp, through aiohttp (portal.crawlers.aioclient, imported only when first needed)."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import socket
import ssl
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from multidict import CIMultiDict
from yarl import URL

from portal.crawlers.guard import BlockedAddressError, GuardError, Target, parse_target, resolve_host
from portal.crawlers.pagetext import CLASSIFY_LIMIT, classify, decode_body
from portal.crawlers.plainhttp import Expiry, PlainClient
from portal.crawlers.results import (
    DEFAULT_USER_AGENT,
    CheckerConfig,
    CheckResult,
    FetchResult,
    Lookup,
    _ms,
    _result,
    run_loop,
)
from portal.vocabulary import NETWORK_REASONS

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "vi,en;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"

T = TypeVar("T")


class TooManyRedirects(Exception):
    """Redirect loop, or more hops than allowed."""


def _system_lookup(host: str, port: int, family: int) -> list[Any]:
    return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if not future.done():
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class VettedLookups:
    """Addresses the guard has vetted, one lookup per host for the lookups' life (a sweep): no rebinding.

    The system lookup runs in a daemon thread, at most `max_lookups` at a time, and is given up after
    `timeout` seconds (`dns_error`). Both HTTP clients of a checker connect only to these answers."""

    def __init__(self, allow_private: bool, timeout: float = 5.0, lookup: Lookup | None = None,
                 max_lookups: int = 16) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self._lookup = lookup or _system_lookup
        self._max_lookups = max_lookups
        self._slots: asyncio.Semaphore | None = None
        self._cache: dict[tuple[str, int], asyncio.Future[list[tuple[int, str]]]] = {}

    async def _threaded(self, host: str, port: int, family: int) -> list[Any]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_lookups)
        loop = asyncio.get_running_loop()
        async with self._slots:
            future: asyncio.Future[list[Any]] = loop.create_future()

            def work() -> None:
                try:
                    outcome: tuple[bool, Any] = (True, self._lookup(host, port, family))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                    outcome = (False, exc)
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
                    loop.call_soon_threadsafe(_settle, future, *outcome)

            threading.Thread(target=work, name="portal-resolve", daemon=True).start()
            try:
                async with asyncio.timeout(self.timeout):
                    return await future
            except TimeoutError:
                raise socket.gaierror(
                    socket.EAI_AGAIN, f"no answer from the resolver for {host} within {self.timeout:g} s"
                ) from None

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
        """(family, address) pairs of a host; socket.gaierror or BlockedAddressError as resolve_host raises."""
        key = (host, int(family))
        pending = self._cache.get(key)
        if pending is None:
            pending = self._cache[key] = asyncio.ensure_future(
                resolve_host(host, port, self.allow_private, family, self._threaded)
            )
            pending.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(pending)

    def close(self) -> None:
        for pending in self._cache.values():
            pending.cancel()
        self._cache.clear()


class _HostLimiter:
    """Per-origin semaphores, dropped when no check uses them."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[tuple[str, int], list[Any]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, int]) -> AsyncIterator[None]:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = [asyncio.Semaphore(self._limit), 0]
        slot[1] += 1
        try:
            async with slot[0]:
                yield
        finally:
            slot[1] -= 1
            if slot[1] == 0:
                del self._slots[key]


def _exception_reason(exc: BaseException) -> tuple[str, str]:
    detail = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, GuardError):
        return exc.reason, str(exc)
    if isinstance(exc, TooManyRedirects):
        return "too_many_redirects", str(exc)
    if isinstance(exc, BlockedAddressError):
        return "blocked_address", str(exc)
    if isinstance(exc, socket.gaierror):
        return "dns_error", detail
    aiohttp = sys.modules.get("aiohttp")  # its errors exist only once it is imported
    if aiohttp is not None:
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            cause: BaseException | None = exc
            while cause is not None:
                if isinstance(cause, BlockedAddressError):
                    return "blocked_address", str(cause)
                cause = cause.__cause__ or getattr(cause, "os_error", None)
                if cause is exc:
                    break
            return "dns_error", detail
        if isinstance(exc, aiohttp.InvalidURL):
            return "invalid_url", detail
        if isinstance(exc, aiohttp.ClientSSLError):
            return "tls_error", detail
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls_error", detail
    if isinstance(exc, TimeoutError):
        return "timeout", detail
    return "connection_error", detail


def _host_wide(exc: BaseException, reason: str, fetched: FetchResult) -> bool:
    """A failure of the host rather than of the path: no name, no connection, no TLS, or no answer at all."""
    if reason not in NETWORK_REASONS:
        return False
    if reason == "timeout":
        return fetched.http_status is None
    return True


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class Response(Protocol):
    """What a hop needs of a response, from either client."""

    status: int
    url: URL
    headers: CIMultiDict[str]

    @property
    def charset(self) -> str | None: ...

    def cookies(self) -> list[tuple[str, str]]: ...

    async def read(self) -> tuple[bytes, bool]: ...

    def release(self) -> None: ...


class Checker:
    """Shared keep-alive connections with global and per-host limits; use as an async context manager."""

    def __init__(self, config: CheckerConfig | None = None, *, lookup: Lookup | None = None) -> None:
        self.config = config or CheckerConfig()
        self._lookup = lookup
        self._lookups: VettedLookups | None = None
        self._plain: PlainClient | None = None
        self._session: Any = None
        self._global: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hosts = _HostLimiter(self.config.per_host)
        cfg = self.config
        self._request_tail = (f"User-Agent: {cfg.user_agent}\r\nAccept: {ACCEPT}\r\nAccept-Language: {ACCEPT_LANGUAGE}"
                              f"\r\nAccept-Encoding: {ACCEPT_ENCODING}\r\n").encode("utf-8", "surrogateescape")

    async def __aenter__(self) -> Checker:
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._lookups = VettedLookups(cfg.allow_private, min(cfg.connect_timeout, cfg.deadline), self._lookup)
        if cfg.client == "lean":
            self._plain = PlainClient(cfg.connect_timeout, cfg.read_timeout, idle_per_origin=cfg.per_host,
                                      idle_total=cfg.concurrency)
        self._global = asyncio.Semaphore(cfg.concurrency)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._lookups is not None:
            self._lookups.close()

    async def check(self, url: str) -> CheckResult:
        return (await self._run(url, full_text=False)).check

    async def fetch(self, url: str) -> FetchResult:
        return await self._run(url, full_text=True)

    async def _run(self, url: str, full_text: bool, limited: bool = True, target: Target | None = None) -> FetchResult:
        started = time.monotonic()
        fetched = FetchResult(url, None, None, None, b"", None, None, _result(url, "invalid_url", started))
        if target is None:
            try:
                target = parse_target(url, self.config.allow_private)
            except GuardError as exc:
                fetched.check = _result(url, exc.reason, started, detail=str(exc))
                return fetched
        if self._global is None:
            raise RuntimeError("Checker used outside 'async with'")
        if limited:
            async with self._global, self._hosts.hold((target.host, target.port)):
                began = await self._attempt(url, target, fetched, full_text)
        else:
            began = await self._attempt(url, target, fetched, full_text)
        if began is None:
            return fetched
        elapsed = _ms(began)
        text = fetched.text or ""
        outcome, reason = classify(
            fetched.http_status or 0, fetched.headers, text[:CLASSIFY_LIMIT], elapsed, self.config
        )
        fetched.check = CheckResult(url, outcome, reason, fetched.http_status, elapsed, fetched.final_url)
        if fetched.http_status in (429, 503):
            fetched.check.retry_after = retry_after_seconds(fetched.headers.get("Retry-After"))
        if not full_text:
            fetched.body, fetched.text = b"", None
        return fetched

    async def _attempt(self, url: str, target: Target, fetched: FetchResult, full_text: bool) -> float | None:
        """Fetch within the deadline: when it started, or None when it failed (`fetched.check` then says why)."""
        started = time.monotonic()
        expiry = Expiry(self._loop, self.config.deadline)
        try:
            async with expiry:
                await self._follow(target, fetched, full_text)
        except Exception as exc:
            reason, detail = _exception_reason(exc)
            # the deadline's own timer said so (the loop's clock may run a little behind time.monotonic)
            if isinstance(exc, TimeoutError) and expiry.expired:
                detail = f"deadline of {self.config.deadline:g} s exceeded"
            fetched.host_fault = _host_wide(exc, reason, fetched)
            fetched.check = _result(url, reason, started, fetched.http_status, fetched.final_url, detail=detail)
            return None
        return started

    async def _send(self, target: Target, url: URL, jar: dict[str, str]) -> Response:
        """One GET of a hop, without following redirects: the lean client for http://, else aiohttp."""
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items()) if jar else None
        if self._plain is not None and target.scheme == "http":
            if target.ip is not None:  # vetted by parse_target; the host is the address's canonical spelling
                addresses = [(socket.AF_INET6 if target.ip.version == 6 else socket.AF_INET, target.host)]
            else:
                assert self._lookups is not None  # noqa: S101 - set by __aenter__
                addresses = await self._lookups.resolve(target.host, target.port)
            host = url.raw_host or target.host
            if ":" in host:
                host = f"[{host}]"
            if target.port != 80:
                host = f"{host}:{target.port}"
            head = f"GET {url.raw_path_qs or '/'} HTTP/1.1\r\nHost: {host}\r\n"
            if cookie:
                head += f"Cookie: {cookie}\r\n"
            request = head.encode("utf-8", "surrogateescape") + self._request_tail + b"\r\n"
            return await self._plain.get(url, target.host, target.port, addresses, request, self.config.max_body)
        if self._session is None:
            from portal.crawlers.aioclient import open_session

            assert self._lookups is not None  # noqa: S101 - set by __aenter__
            self._session = open_session(self.config, self._lookups)
        from portal.crawlers.aioclient import get

        return await get(self._session, url, cookie, self.config.max_body)

    async def _follow(self, target: Target, fetched: FetchResult, full_text: bool) -> None:
        if self._lookups is None:
            raise RuntimeError("Checker used outside 'async with'")
        cfg = self.config
        current = target
        cookies: dict[str, dict[str, str]] = {}
        seen: set[tuple[str, frozenset[tuple[str, str]]]] = set()
        for hop in itertools.count():
            url = current.url.with_fragment(None)
            if current.ip is not None and current.ip.version == 4 and url.raw_host != current.host:
                url = url.with_host(current.host)  # a numeric spelling (2130706433, 0x7f.1) as a dotted quad
            jar = cookies.setdefault(current.host, {})
            key = (str(url), frozenset(jar.items()))
            if key in seen:
                raise TooManyRedirects(f"redirect loop back to {url}")
            seen.add(key)
            resp = await self._send(current, url, jar)
            try:
                fetched.http_status = resp.status
                fetched.final_url = str(resp.url)
                for name, value in resp.cookies():
                    jar[name] = value
                location = resp.headers.get("Location")
                if resp.status in REDIRECT_STATUSES and location:
                    if hop >= cfg.max_redirects:
                        raise TooManyRedirects(f"more than {cfg.max_redirects} redirects")
                    try:
                        next_url = resp.url.join(URL(location))
                    except ValueError as exc:
                        raise GuardError("invalid_url", f"bad redirect target {location!r}") from exc
                    current = parse_target(next_url, cfg.allow_private)
                    continue
                fetched.headers = resp.headers
                fetched.content_type = resp.headers.get("Content-Type")
                if resp.status in (404, 410, 429) and not full_text:
                    return
                body, _truncated = await resp.read()
                fetched.body = body
                fetched.text, fetched.encoding = decode_body(
                    body, resp.charset, None if full_text else CLASSIFY_LIMIT
                )
                return
            finally:
                resp.release()


def _run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    box: dict[str, Any] = {}

    def run() -> None:
        async def main() -> T:
            return await factory()

        try:
            box["value"] = run_loop(main())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="portal-fetch", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def check_one(url: str, config: CheckerConfig | None = None) -> CheckResult:
    async with Checker(config) as checker:
        return await checker.check(url)


def check_url(url: str, config: CheckerConfig | None = None) -> CheckResult:
    """Check one URL synchronously (safe to call whether or not an event loop is running)."""
    return _run_sync(lambda: check_one(url, config))


async def fetch_page(url: str, config: CheckerConfig | None = None) -> FetchResult:
    """Guarded GET of one page: capped, decompressed and decoded body plus its check verdict."""
    async with Checker(config) as checker:
        return await checker.fetch(url)


def fetch(url: str, config: CheckerConfig | None = None) -> FetchResult:
    """Synchronous fetch_page."""
    return _run_sync(lambda: fetch_page(url, config))


__all__ = [
    "DEFAULT_USER_AGENT",
    "CheckResult",
    "Checker",
    "CheckerConfig",
    "FetchResult",
    "check_one",
    "check_url",
    "classify",
    "fetch",
    "fetch_page",
]
