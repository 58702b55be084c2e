"""Loopback test servers: an aiohttp app with one route per verdict, plus raw misbehaving sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import unicodedata
import zlib
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}

OK_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Đăng ký hộ chiếu</title></head>"
    "<body><h1>Đăng ký hộ chiếu phổ thông</h1><form><input name='cccd'></form></body></html>"
)
MAINTENANCE_PAGE = (
    "<html><head><title>Thông báo</title></head><body><h1>Hệ thống đang bảo trì</h1>"
    "<p>Cổng dịch vụ công tạm ngừng hoạt động để nâng cấp. Xin quý khách vui lòng quay lại sau.</p>"
    "</body></html>"
)
SOFT_404_PAGE = (
    "<html><head><title>Cổng dịch vụ công</title></head><body><div class='err'>"
    "Xin lỗi, không tìm thấy trang bạn yêu cầu.</div><a href='/'>Về trang chủ</a></body></html>"
)
CLOUDFLARE_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<noscript>Enable JavaScript and cookies to continue</noscript>"
    "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>"
)


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese text as Windows-1258 (base letter plus combining tone mark where needed)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out += base.encode("cp1258") + "".join(c for c in parts if c in TONES).encode("cp1258")
    return bytes(out)


class LoopThread:
    """An asyncio loop in a daemon thread, for servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _html(text: str, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=text.encode("utf-8"),
        status=status,
        headers={"Content-Type": "text/html; charset=utf-8", **headers},
    )


def build_app() -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/ok")
    async def ok(request: web.Request) -> web.Response:
        return _html(OK_PAGE, **{"X-UA": request.headers.get("User-Agent", "")})

    @routes.get("/echo-ua")
    async def echo_ua(request: web.Request) -> web.Response:
        return _html(f"<html><body>UA={request.headers.get('User-Agent')} M={request.method}</body></html>")

    @routes.get("/slow")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "0.4")))
        return _html(OK_PAGE)

    @routes.get("/status/{code}")
    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return _html(f"<html><body>Status {code}</body></html>", status=code)

    @routes.get("/soft404")
    async def soft404(request: web.Request) -> web.Response:
        return _html(SOFT_404_PAGE)

    @routes.get("/soft404-en")
    async def soft404_en(request: web.Request) -> web.Response:
        return _html("<html><head><title>Page Not Found</title></head><body>Oops.</body></html>")

    @routes.get("/maintenance")
    async def maintenance(request: web.Request) -> web.Response:
        return _html(MAINTENANCE_PAGE)

    @routes.get("/maintenance-503")
    async def maintenance_503(request: web.Request) -> web.Response:
        return _html(MAINTENANCE_PAGE, status=503)

    @routes.get("/loop")
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    @routes.get("/hops/{n}")
    async def hops(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hops/{n - 1}" if n > 1 else "/ok")

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    @routes.get("/cookie-gate")
    async def cookie_gate(request: web.Request) -> web.Response:
        if request.cookies.get("seen") == "1":
            return _html(OK_PAGE)
        response = web.HTTPFound("/cookie-gate")
        response.set_cookie("seen", "1")
        raise response

    @routes.get("/429")
    async def too_many(request: web.Request) -> web.Response:
        return _html("<html><body>Too Many Requests</body></html>", status=429, **{"Retry-After": "30"})

    @routes.get("/cf-challenge")
    async def cf(request: web.Request) -> web.Response:
        return _html(CLOUDFLARE_PAGE, status=403, Server="cloudflare", **{"cf-mitigated": "challenge"})

    @routes.get("/cf-challenge-200")
    async def cf200(request: web.Request) -> web.Response:
        return _html(CLOUDFLARE_PAGE)

    @routes.get("/empty")
    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="text/html")

    @routes.get("/blank")
    async def blank(request: web.Request) -> web.Response:
        return web.Response(body=b"  \r\n\t \n", content_type="text/html")

    @routes.get("/endless")
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await response.prepare(request)
        await response.write(OK_PAGE.replace("</body></html>", "").encode())
        chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
        while True:
            await response.write(chunk)

    @routes.get("/gzip-bomb")
    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
        )
        await response.prepare(request)
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        head = packer.compress(OK_PAGE.replace("</body></html>", "").encode())
        zeros = bytes(1 << 20)
        dense = b"".join(packer.compress(zeros) for _ in range(64))
        await response.write(head + dense)
        for _ in range(1024 - 64):
            await response.write(packer.compress(zeros))
        await response.write(packer.flush())
        return response

    @routes.get("/gzip-page")
    async def gzip_page(request: web.Request) -> web.Response:
        packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        body = packer.compress(MAINTENANCE_PAGE.encode()) + packer.flush()
        return web.Response(
            body=body, headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
        )

    @routes.get("/lying-utf8")
    async def lying_utf8(request: web.Request) -> web.Response:
        return web.Response(
            body=encode_cp1258(MAINTENANCE_PAGE), headers={"Content-Type": "text/html; charset=utf-8"}
        )

    @routes.get("/lying-latin1")
    async def lying_latin1(request: web.Request) -> web.Response:
        return web.Response(
            body=MAINTENANCE_PAGE.encode("utf-8"), headers={"Content-Type": "text/html; charset=iso-8859-1"}
        )

    @routes.get("/cp1258-meta")
    async def cp1258_meta(request: web.Request) -> web.Response:
        page = MAINTENANCE_PAGE.replace("<head>", "<head><meta charset='windows-1258'>")
        return web.Response(body=encode_cp1258(page), headers={"Content-Type": "text/html"})

    app = web.Application()
    app.add_routes(routes)
    return app


def listening_socket(backlog: int = 128) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


async def start_app(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock, ssl_context=ssl_context).start()
    return runner, sock.getsockname()[1]


async def start_raw(behaviour: str) -> tuple[asyncio.Server, int]:
    """A raw TCP server: 'silent' never answers, 'drip' sends one body byte per 0.2 s,
    'reset' aborts with RST, 'close' closes after reading the request, 'garbage' sends non-HTTP."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if behaviour == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            await reader.readuntil(b"\r\n\r\n")
            if behaviour == "silent":
                await asyncio.sleep(3600)
            elif behaviour == "drip":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
                while True:
                    writer.write(b"a")
                    await writer.drain()
                    await asyncio.sleep(0.2)
            elif behaviour == "garbage":
                writer.write(b"\x00\x01garbage not http\r\n\r\n")
                await writer.drain()
            writer.close()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(handle, sock=listening_socket())
    return server, server.sockets[0].getsockname()[1]
