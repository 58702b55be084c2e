"""Fixtures of the figures tests: a loopback server of statistics pages, agencies, an admin."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stats"
CONTENT_TYPES = {".html": "text/html", ".json": "application/json"}


class StatsServer:
    """Serves tests/fixtures/stats/* and pages set by a test (`set_page`) on 127.0.0.1."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, headers, body = server.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        status, content_type, body = self.lookup(path)
        return status, {"Content-Type": content_type}, body

    def lookup(self, path: str) -> tuple[int, str, bytes]:
        if path in self.pages:
            return self.pages[path]
        name = path.lstrip("/")
        file = FIXTURES / name
        if "/" not in name and file.is_file():
            return 200, CONTENT_TYPES.get(file.suffix, "text/plain"), file.read_bytes()
        return 404, "text/html; charset=utf-8", b"<html><body><h1>404 Not Found</h1></body></html>"

    def set_page(self, path: str, html: str, status: int = 200) -> str:
        self.pages[path] = (status, "text/html; charset=utf-8", html.encode("utf-8"))
        return self.base + path

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _stats_server_session() -> Iterator[StatsServer]:
    server = StatsServer()
    yield server
    server.close()


@pytest.fixture
def stats_server(_stats_server_session: StatsServer) -> Iterator[StatsServer]:
    """The loopback server; pages a test sets are forgotten afterwards."""
    yield _stats_server_session
    _stats_server_session.pages.clear()


def stats_page(total: str, online: str, rate: str = "") -> str:
    """A province statistics page in the Vietnamese convention."""
    rate_row = f"<tr><td>Tỷ lệ hồ sơ trực tuyến</td><td>{rate}</td></tr>" if rate else ""
    return (
        "<html><head><meta charset='utf-8'><title>Thống kê hồ sơ</title></head><body>"
        "<h1>Tình hình giải quyết hồ sơ</h1><table>"
        f"<tr><td>Tổng số hồ sơ tiếp nhận</td><td>{total}</td></tr>"
        f"<tr><td>Hồ sơ tiếp nhận trực tuyến</td><td>{online}</td></tr>"
        f"{rate_row}</table></body></html>"
    )


@pytest.fixture
def agencies(db):
    """Two provinces and a ministry, enough for scoping and exports."""
    from portal.models import Agency

    items = {
        "ha-noi": Agency(code="ha-noi", name="Hà Nội", kind="province"),
        "da-nang": Agency(code="da-nang", name="Đà Nẵng", kind="province"),
        "bo-tu-phap": Agency(code="bo-tu-phap", name="Bộ Tư pháp", kind="ministry"),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


