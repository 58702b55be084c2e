"""Lean HTTP/1.1 client for plain http:// checks: one asyncio.Protocol per connection, responses parsed as they
arrive (status line, headers, Content-Length, chunked or until-close bodies, capped gzip/deflate decoding), and a
small pool of idle keep-alive connections per origin. Addresses come in already vetted (no lookup here). Every
wait has a timer, and an answer that is not HTTP/1.x, is cut short or goes over a limit is a ResponseError."""

from __future__ import annotations

import asyncio
import re
import socket
import zlib
from collections.abc import Sequence
from typing import Any

from multidict import CIMultiDict
from yarl import URL

MAX_HEAD = 65_536
MAX_HEADER_LINES = 256
MAX_CHUNK_LINE = 4096
MAX_COOKIES = 50

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+(.*?))?[ \t]*")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_DIGITS = re.compile(r"[0-9]{1,18}")
_COOKIE_NAME = re.compile(r"[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Connection states
_IDLE, _HEAD, _BODY, _DONE, _BROKEN = range(5)
# Body framing
_NONE, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)
# Chunked decoder states
_SIZE, _DATA_END, _TRAILER = range(3)


class ResponseError(Exception):
    """The server's answer is not HTTP/1.x, ends early, or goes over a limit."""


class ReadTimeout(TimeoutError):
    """No data from the server within the read timeout."""


class ConnectTimeout(TimeoutError):
    """The TCP connection was not made within the connect timeout."""


class Expiry:
    """asyncio.timeout(delay) for the task running on `loop`, without its look-ups of the running loop (a getpid
    system call each, twice per check): the task is cancelled after `delay` seconds and TimeoutError raised."""

    __slots__ = ("_loop", "_delay", "_task", "_handle", "expired")

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        self._loop = loop
        self._delay = delay
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.expired = False

    def _expire(self) -> None:
        self.expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> Expiry:
        self._task = asyncio.current_task(self._loop)
        if self._task is None:
            raise RuntimeError("Expiry used outside a task")
        self._handle = self._loop.call_at(self._loop.time() + self._delay, self._expire)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self.expired and exc_type is asyncio.CancelledError and self._task is not None:
            if self._task.uncancel() == 0:  # cancelled by this expiry only, not also from outside
                raise TimeoutError from exc


class Decoder:
    """Content-Encoding decoder whose output per call is capped (gzip bombs stay small)."""

    def __init__(self, encoding: str) -> None:
        self.kind = encoding
        self._z: Any = None
        self._first = True
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)

    @property
    def active(self) -> bool:
        return self._z is not None

    def feed(self, data: bytes, room: int) -> bytes:
        """Decompress at most `room` bytes out of `data`; input beyond that is dropped."""
        if self._first and self.kind == "deflate":
            self._first = False
            try:
                return self._z.decompress(data, room)
            except zlib.error:
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        out = self._z.decompress(data, room)
        while self._z.eof and self._z.unused_data and len(out) < room and self.kind != "deflate":
            rest = self._z.unused_data
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += self._z.decompress(rest, room - len(out))
        return out


def parse_head(head: bytes) -> tuple[tuple[int, int], int, str, CIMultiDict[str]]:
    """(version, status, reason, headers) of a response head without its blank line.

    Lenient where browsers are (LF-only line ends, no reason phrase, folded or repeated headers, header lines
    that are not `name: value` skipped); a status line that is not HTTP/1.x is a ResponseError."""
    lines = head.split(b"\n")
    first = lines[0].rstrip(b"\r")
    match = _STATUS_LINE.fullmatch(first)
    if match is None or match[1] != b"1":
        raise ResponseError(f"not an HTTP/1.x status line: {first[:100]!r}")
    if len(lines) > MAX_HEADER_LINES + 1:
        raise ResponseError(f"more than {MAX_HEADER_LINES} header lines")
    fields: list[list[str]] = []
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[0] in (32, 9):  # obs-fold: continues the previous header's value
            if fields:
                more = line.strip(b" \t").decode("utf-8", "surrogateescape")
                fields[-1][1] = f"{fields[-1][1]} {more}" if fields[-1][1] else more
            continue
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            continue
        fields.append([name.decode("ascii"), value.strip(b" \t").decode("utf-8", "surrogateescape")])
    reason = (match[4] or b"").decode("latin-1")
    return (1, int(match[2])), int(match[3]), reason, CIMultiDict(fields)


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, or None."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip(' "\'') or None
    return None


def set_cookies(headers: CIMultiDict[str]) -> list[tuple[str, str]]:
    """(name, value) of each usable Set-Cookie header, at most MAX_COOKIES; nameless or malformed ones skipped."""
    found: list[tuple[str, str]] = []
    for header in headers.getall("Set-Cookie", ()):
        if len(found) >= MAX_COOKIES or _CONTROL.search(header):
            continue
        name, sep, value = header.split(";", 1)[0].partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not sep or not _COOKIE_NAME.fullmatch(name) or len(name) + len(value) > 4096:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        found.append((name, value))
    return found


def _framing(status: int, headers: CIMultiDict[str]) -> tuple[int, int]:
    """(framing, length) of a response body to a GET."""
    if status in (204, 304) or 100 <= status < 200:
        return _NONE, 0
    codings = headers.getall("Transfer-Encoding", ())
    if codings:
        last = codings[-1].rsplit(",", 1)[-1].strip().lower()
        return (_CHUNKED, 0) if last == "chunked" else (_UNTIL_CLOSE, 0)
    lengths = headers.getall("Content-Length", ())
    if lengths:
        values = {v.strip() for value in lengths for v in value.split(",")}
        if len(values) != 1 or _DIGITS.fullmatch(next(iter(values))) is None:
            raise ResponseError(f"bad Content-Length {', '.join(lengths)[:100]!r}")
        length = int(values.pop())
        return (_LENGTH, length) if length else (_NONE, 0)
    return _UNTIL_CLOSE, 0


class Response:
    """One response: status, headers and URL at once; the body through read(), then release()."""

    __slots__ = ("status", "reason", "headers", "url", "_conn")

    def __init__(self, conn: _Connection, url: URL) -> None:
        self.status = conn.status
        self.reason = conn.reason
        self.headers = conn.headers
        self.url = url
        self._conn: _Connection | None = conn

    @property
    def charset(self) -> str | None:
        return charset_of(self.headers.get("Content-Type"))

    def cookies(self) -> list[tuple[str, str]]:
        return set_cookies(self.headers)

    async def read(self) -> tuple[bytes, bool]:
        """The body, decoded and capped at the request's limit; True when it was longer."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("response already released")
        if conn.state != _DONE:
            if conn.state != _BODY:
                self.close()
                raise conn.error or ResponseError("connection closed before the body was read")
            waiter = conn.waiter = conn.loop.create_future()
            try:
                await waiter
            except BaseException:
                self.close()
                raise
        body = b"".join(conn.chunks)
        conn.chunks = []
        return body, conn.truncated

    def release(self) -> None:
        """Give the connection back to the pool when its message ended cleanly, else close it."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.client._release(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()


class _Connection(asyncio.Protocol):
    """One TCP connection, one request at a time; the response is parsed in data_received."""

    def __init__(self, client: PlainClient, key: tuple[str, int]) -> None:
        self.client = client
        self.loop = client.loop
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.state = _IDLE
        self.waiter: asyncio.Future[None] | None = None
        self.error: BaseException | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.last = 0.0
        self.received = False
        self.idle_since = 0.0
        self.buffer = b""
        self.limit = 0
        self.status = 0
        self.reason = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.reusable = False
        self.framing = _NONE
        self.left = 0
        self.chunk_state = _SIZE
        self.decoder: Decoder | None = None
        self.chunks: list[bytes] = []
        self.total = 0
        self.truncated = False

    # -- transport events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        state = self.state
        self.reusable = False
        if state == _IDLE:
            self.state = _BROKEN
            self.client._forget(self)
        elif state == _BODY and self.framing == _UNTIL_CLOSE:
            self._finish()
        elif state in (_HEAD, _BODY):
            if isinstance(exc, OSError):
                self._fail(exc)
            elif state == _HEAD:
                what = "before answering" if not self.received else "in the middle of the response head"
                self._fail(ResponseError(f"server closed the connection {what}"))
            else:
                self._fail(ResponseError("server closed the connection before the body ended"))
        self._stop_timer()

    def data_received(self, data: bytes) -> None:
        self.last = self.loop.time()
        self.received = True
        state = self.state
        if state == _BODY:
            self._body(data)
        elif state == _HEAD:
            self._head(data)
        elif data:
            self.reusable = False  # bytes nobody asked for: the connection is not trusted again
            if state == _IDLE:
                self.abort()

    def eof_received(self) -> bool | None:
        return None

    # -- one exchange

    async def exchange(self, request: bytes, limit: int, read_timeout: float) -> None:
        """Send `request` and wait for the response head."""
        self.state = _HEAD
        self.error = None
        self.limit = limit
        self.received = False
        self.buffer = b""
        self.chunks = []
        self.total = 0
        self.truncated = False
        self.decoder = None
        self.reusable = False
        waiter = self.waiter = self.loop.create_future()
        self.last = self.loop.time()
        self.timer = self.loop.call_at(self.last + read_timeout, self._on_timer, read_timeout)
        assert self.transport is not None  # noqa: S101 - connected before any exchange
        self.transport.write(request)
        try:
            await waiter
        except BaseException:
            self.abort()
            raise

    def _on_timer(self, read_timeout: float) -> None:
        self.timer = None
        if self.state not in (_HEAD, _BODY):
            return
        quiet = self.loop.time() - self.last
        if quiet >= read_timeout:
            self._fail(ReadTimeout(f"no data from the server for {read_timeout:g} s"))
        else:
            self.timer = self.loop.call_at(self.last + read_timeout, self._on_timer, read_timeout)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _settle(self, error: BaseException | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        if self.state in (_DONE, _BROKEN):
            self._stop_timer()

    def _fail(self, error: BaseException) -> None:
        self.state = _BROKEN
        self.error = error
        self.reusable = False
        self._settle(error)
        if self.transport is not None:
            self.transport.abort()

    def abort(self) -> None:
        if self.state != _BROKEN:
            self.state = _BROKEN
            self.reusable = False
            self._stop_timer()
        if self.transport is not None:
            self.transport.abort()

    # -- parsing

    def _head(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = _HEAD_END.search(buffer)
            if end is None:
                if len(buffer) > MAX_HEAD:
                    self._fail(ResponseError(f"response head over {MAX_HEAD} bytes"))
                else:
                    self.buffer = buffer
                return
            if end.start() > MAX_HEAD:
                self._fail(ResponseError(f"response head over {MAX_HEAD} bytes"))
                return
            try:
                version, status, reason, headers = parse_head(buffer[:end.start()])
                if 100 <= status < 200 and status != 101:
                    buffer = buffer[end.end():]  # an interim answer (100 Continue, 103 Early Hints)
                    continue
                if status == 101:
                    raise ResponseError("unexpected 101 Switching Protocols")
                self.framing, self.left = _framing(status, headers)
            except ResponseError as exc:
                self._fail(exc)
                return
            break
        self.buffer = b""
        self.status, self.reason, self.headers = status, reason, headers
        connection = headers.get("Connection", "").lower()
        if version == (1, 1):
            self.reusable = "close" not in connection
        else:
            self.reusable = "keep-alive" in connection
        encoding = headers.get("Content-Encoding")
        if encoding:
            decoder = Decoder(encoding.strip().lower())
            self.decoder = decoder if decoder.active else None
        self.chunk_state = _SIZE
        rest = buffer[end.end():]
        waiter = self.waiter
        if self.framing == _NONE:
            self.state = _DONE
            if rest:
                self.reusable = False
        else:
            self.state = _BODY
            if rest:
                self._body(rest)
        if self.state != _BROKEN and waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.state == _DONE:
            self._stop_timer()

    def _body(self, data: bytes) -> None:
        framing = self.framing
        if framing == _LENGTH:
            if len(data) >= self.left:
                if len(data) > self.left:
                    self.reusable = False
                data, self.left = data[:self.left], 0
                if self._keep(data):
                    self._finish()
            else:
                self.left -= len(data)
                self._keep(data)
        elif framing == _CHUNKED:
            self._chunked(data)
        else:
            self._keep(data)

    def _keep(self, data: bytes) -> bool:
        """Store body bytes (decoded, up to the limit); False when the body went over it and reading stopped."""
        if not data:
            return True
        if self.decoder is not None:
            try:
                data = self.decoder.feed(data, self.limit + 1 - self.total)
            except zlib.error as exc:
                self._fail(exc)
                return False
        self.total += len(data)
        self.chunks.append(data)
        if self.total > self.limit:
            self.chunks = [b"".join(self.chunks)[:self.limit]]
            self.truncated = True
            self.reusable = False
            self._finish()
            if self.transport is not None:
                self.transport.abort()
            return False
        return True

    def _finish(self) -> None:
        if self.state == _BODY:
            self.state = _DONE
            self._settle(None)

    def _chunked(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        self.buffer = b""
        position, size = 0, len(buffer)
        while position < size:
            if self.left:
                end = min(size, position + self.left)
                self.left -= end - position
                if not self._keep(buffer[position:end]):
                    return
                position = end
                if not self.left:
                    self.chunk_state = _DATA_END
                continue
            newline = buffer.find(b"\n", position)
            if newline < 0:
                if size - position > MAX_CHUNK_LINE:
                    self._fail(ResponseError("chunk header line too long"))
                else:
                    self.buffer = buffer[position:]
                return
            line = buffer[position:newline].rstrip(b"\r")
            position = newline + 1
            if self.chunk_state == _SIZE:
                digits = line.split(b";", 1)[0].strip(b" \t")
                if _HEX.fullmatch(digits) is None:
                    self._fail(ResponseError(f"bad chunk size {line[:40]!r}"))
                    return
                self.left = int(digits, 16)
                if not self.left:
                    self.chunk_state = _TRAILER
            elif self.chunk_state == _DATA_END:
                if line:
                    self._fail(ResponseError("chunk data longer than its size"))
                    return
                self.chunk_state = _SIZE
            elif not line:  # the blank line after the last chunk and its trailers
                if position < size:
                    self.reusable = False
                self._finish()
                return
        return


class PlainClient:
    """GETs over plain TCP to vetted addresses, with per-origin idle connections kept for reuse."""

    def __init__(self, connect_timeout: float, read_timeout: float, *, keepalive: float = 15.0,
                 idle_per_origin: int = 4, idle_total: int = 256) -> None:
        self.loop = asyncio.get_running_loop()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.keepalive = keepalive
        self.idle_per_origin = idle_per_origin
        self.idle_total = idle_total
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._idle_count = 0
        self._closed = False

    async def get(self, url: URL, host: str, port: int, addresses: Sequence[tuple[int, str]], request: bytes,
                  limit: int) -> Response:
        """Send `request` (a whole GET) to host:port over an idle connection, or a new one to the first of
        `addresses` that connects (IPv4 ones first); the response once its head has arrived. A reused connection
        that the server had already closed is replaced once by a new one."""
        key = (host, port)
        conn = self._take(key)
        if conn is not None:
            try:
                await conn.exchange(request, limit, self.read_timeout)
                return Response(conn, url)
            except (ResponseError, OSError) as exc:
                if conn.received or isinstance(exc, TimeoutError):
                    raise
        conn = await self._connect(key, host, port, addresses)
        await conn.exchange(request, limit, self.read_timeout)
        return Response(conn, url)

    async def _connect(self, key: tuple[str, int], host: str, port: int,
                       addresses: Sequence[tuple[int, str]]) -> _Connection:
        error: OSError | None = None
        if len(addresses) > 1:
            addresses = sorted(addresses, key=lambda answer: answer[0] != socket.AF_INET)
        try:
            async with Expiry(self.loop, self.connect_timeout):
                for family, address in addresses:
                    try:
                        _transport, conn = await self.loop.create_connection(
                            lambda: _Connection(self, key), address, port, family=family)
                    except OSError as exc:
                        error = exc
                        continue
                    return conn
        except TimeoutError:
            raise ConnectTimeout(f"no connection to {host}:{port} within {self.connect_timeout:g} s") from None
        if error is None:
            raise OSError(f"no address to connect to for {host}")
        raise error

    def _take(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = self.loop.time()
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.state == _IDLE and now - conn.idle_since < self.keepalive:
                if not idle:
                    del self._idle[key]
                return conn
            conn.abort()
        self._idle.pop(key, None)
        return None

    def _release(self, conn: _Connection) -> None:
        if conn.state != _DONE or not conn.reusable or self._closed:
            conn.abort()
            return
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= self.idle_per_origin or self._idle_count >= self.idle_total:
            self._expire()
            if len(idle) >= self.idle_per_origin or self._idle_count >= self.idle_total:
                conn.abort()
                if not idle:
                    del self._idle[conn.key]
                return
        conn.state = _IDLE
        conn.idle_since = self.loop.time()
        conn.chunks = []
        idle.append(conn)
        self._idle_count += 1

    def _forget(self, conn: _Connection) -> None:
        """An idle connection the server closed leaves the pool."""
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)
            self._idle_count -= 1
            if not idle:
                del self._idle[conn.key]

    def _expire(self) -> None:
        now = self.loop.time()
        for key in list(self._idle):
            idle = self._idle[key]
            fresh = [c for c in idle if now - c.idle_since < self.keepalive]
            for conn in idle:
                if conn not in fresh:
                    conn.state = _BROKEN
                    conn.abort()
            self._idle_count -= len(idle) - len(fresh)
            if fresh:
                self._idle[key] = fresh
            else:
                del self._idle[key]

    def close(self) -> None:
        """Close every idle connection; those in use close when released."""
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.state = _BROKEN
                conn.abort()
        self._idle.clear()
        self._idle_count = 0
