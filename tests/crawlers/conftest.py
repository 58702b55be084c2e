from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import trustme

from portal.crawlers.checker import CheckerConfig
from tests.crawlers.servers import LoopThread, build_app, start_app, start_raw


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def web_base(loop_thread: LoopThread) -> Iterator[str]:
    runner, port = loop_thread.run(start_app(build_app()))
    yield f"http://127.0.0.1:{port}"
    loop_thread.run(runner.cleanup())


@pytest.fixture(scope="session")
def raw_server(loop_thread: LoopThread):
    servers = []

    def start(behaviour: str) -> str:
        server, port = loop_thread.run(start_raw(behaviour))
        servers.append(server)
        return f"http://127.0.0.1:{port}/"

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def config() -> CheckerConfig:
    return CheckerConfig(allow_private=True, connect_timeout=2, read_timeout=2, deadline=5, slow_ms=3000)


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
