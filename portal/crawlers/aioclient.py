"""The checker's aiohttp side (https://, or everything with PORTAL_CHECK_CLIENT=aiohttp): a session whose resolver
answers only with the checker's vetted addresses, and responses in the shape the checker's hops read."""

from __future__ import annotations

import socket
import ssl

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from portal.crawlers.checker import ACCEPT, ACCEPT_ENCODING, ACCEPT_LANGUAGE, VettedLookups
from portal.crawlers.plainhttp import Decoder
from portal.crawlers.results import CheckerConfig

_READ_CHUNK = 65_536


class GuardedResolver(AbstractResolver):
    """aiohttp resolver whose only answers are the checker's vetted addresses (one lookup, no rebinding)."""

    def __init__(self, lookups: VettedLookups) -> None:
        self.lookups = lookups

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.lookups.resolve(host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=fam,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for fam, address in answers
        ]

    async def close(self) -> None:
        """The lookups belong to the checker, which closes them."""


def open_session(cfg: CheckerConfig, lookups: VettedLookups) -> aiohttp.ClientSession:
    """A keep-alive session with the checker's limits, timeouts and request headers (run inside its loop)."""
    # aiohttp's own verifying context (made when it is imported) unless a CA file is given: one less to build
    context: ssl.SSLContext | bool = ssl.create_default_context(cafile=cfg.ca_file) if cfg.ca_file else True
    connector = aiohttp.TCPConnector(
        limit=cfg.concurrency,
        limit_per_host=cfg.per_host,
        resolver=GuardedResolver(lookups),
        ttl_dns_cache=30,
        ssl=context,
        keepalive_timeout=30,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=cfg.connect_timeout, sock_read=cfg.read_timeout
        ),
        headers={
            "User-Agent": cfg.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": ACCEPT_LANGUAGE,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        trust_env=False,
    )


async def read_body(resp: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` decoded bytes; True when the body was longer (connection then closed)."""
    decoder = Decoder(resp.headers.get("Content-Encoding", "").strip().lower())
    chunks: list[bytes] = []
    total = 0
    while True:
        raw = await resp.content.read(_READ_CHUNK)
        if not raw:
            return b"".join(chunks), False
        data = decoder.feed(raw, limit + 1 - total) if decoder.active else raw
        total += len(data)
        chunks.append(data)
        if total > limit:
            resp.close()
            return b"".join(chunks)[:limit], True


class AioResponse:
    """An aiohttp response read the way the checker's hops read the lean client's."""

    __slots__ = ("_resp", "_limit", "status", "url", "headers")

    def __init__(self, resp: aiohttp.ClientResponse, limit: int) -> None:
        self._resp = resp
        self._limit = limit
        self.status = resp.status
        self.url: URL = resp.url
        self.headers: CIMultiDict[str] = resp.headers  # type: ignore[assignment]

    @property
    def charset(self) -> str | None:
        return self._resp.charset

    def cookies(self) -> list[tuple[str, str]]:
        return [(name, morsel.value) for name, morsel in self._resp.cookies.items()]

    async def read(self) -> tuple[bytes, bool]:
        return await read_body(self._resp, self._limit)

    def release(self) -> None:
        self._resp.release()


async def get(session: aiohttp.ClientSession, url: URL, cookie: str | None, limit: int) -> AioResponse:
    """One GET without following redirects."""
    headers = {"Cookie": cookie} if cookie else None
    resp = await session.get(url, allow_redirects=False, headers=headers)
    return AioResponse(resp, limit)
