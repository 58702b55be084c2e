from __future__ import annotations

import datetime
import ssl

import pytest

from portal.crawlers.checker import CheckerConfig, check_url
from tests.crawlers.servers import build_app, start_app


@pytest.fixture(scope="module")
def tls_servers(loop_thread, ca, tmp_path_factory):
    """Ports of HTTPS servers: cert for localhost, cert for another host, expired cert."""
    certs = {
        "good": ca.issue_cert("localhost", "127.0.0.1"),
        "wrong_host": ca.issue_cert("other.example"),
        "expired": ca.issue_cert(
            "localhost", not_after=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
        ),
    }
    runners, ports = [], {}
    for name, cert in certs.items():
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        runner, port = loop_thread.run(start_app(build_app(), context))
        runners.append(runner)
        ports[name] = port
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield ports, str(ca_file)
    for runner in runners:
        loop_thread.run(runner.cleanup())


def tls_config(ca_file: str | None) -> CheckerConfig:
    return CheckerConfig(allow_private=True, connect_timeout=2, read_timeout=2, deadline=5, ca_file=ca_file)


def test_trusted_certificate_is_ok(tls_servers):
    ports, ca_file = tls_servers
    result = check_url(f"https://localhost:{ports['good']}/ok", tls_config(ca_file))
    assert (result.outcome, result.reason, result.http_status) == ("up", "ok", 200), result.detail


@pytest.mark.parametrize(("server", "trusted"), [("good", False), ("wrong_host", True), ("expired", True)])
def test_bad_certificates(tls_servers, server, trusted):
    ports, ca_file = tls_servers
    result = check_url(f"https://localhost:{ports[server]}/ok", tls_config(ca_file if trusted else None))
    assert (result.outcome, result.reason, result.http_status) == ("down", "tls_error", None), result.detail


def test_plain_http_server_on_https_url(web_base):
    port = web_base.rsplit(":", 1)[1]
    result = check_url(f"https://127.0.0.1:{port}/ok", tls_config(None))
    assert result.reason == "tls_error", result.detail
