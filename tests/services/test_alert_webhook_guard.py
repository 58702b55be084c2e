"""The alert webhook goes through the address guard, follows no redirect and gives up after its timeout."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.services import alerts
from tests.monitoring_helpers import make_agency, make_services
from tests.services.test_alerts import go_down


@pytest.fixture
def servers():
    """A webhook that redirects to a second loopback server, which records what reaches it; and a slow one."""
    hits: list[str] = []

    class Target(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    started = []

    def serve(handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    target = serve(Target)

    class Redirect(Target):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", f"{target}/internal")
            self.end_headers()

    class Slow(Target):
        def do_POST(self):  # noqa: N802
            time.sleep(3)
            super().do_POST()

    urls = {"target": target, "redirect": serve(Redirect), "slow": serve(Slow)}
    try:
        yield urls, hits
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def test_a_loopback_webhook_is_refused_with_the_switch_off(servers):
    urls, hits = servers
    for url in (f"{urls['target']}/hook", urls["target"].replace("127.0.0.1", "localhost") + "/hook"):
        with pytest.raises(ValueError, match="refused"):
            alerts.post_webhook(url, {"type": "test"})
    assert hits == []
    alerts.post_webhook(f"{urls['target']}/hook", {"type": "test"}, allow_private=True)
    assert hits == ["/hook"]


def test_redirects_are_not_followed(servers):
    urls, hits = servers
    with pytest.raises(ValueError, match="307"):
        alerts.post_webhook(f"{urls['redirect']}/hook", {"type": "test"}, allow_private=True)
    assert hits == ["/hook"]


def test_a_slow_webhook_times_out(servers):
    urls, _ = servers
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        alerts.post_webhook(f"{urls['slow']}/hook", {"type": "test"}, timeout=0.5, allow_private=True)
    assert time.monotonic() - started < 2.5


def test_delivery_to_a_loopback_webhook_with_the_switch_off_reaches_nothing(db, servers):
    urls, hits = servers
    agency = make_agency(db.session)
    (service,) = make_services(db.session, agency, 1)
    go_down(db, service)
    settings = alerts.AlertSettings.from_config({"PORTAL_ALERT_WEBHOOK_URL": f"{urls['target']}/hook"})
    report = alerts.deliver_pending(db.session, settings)
    assert report.webhooks == 0 and report.failed == 1 and "refused" in report.errors[0]
    assert hits == []
    allowed = alerts.AlertSettings.from_config({"PORTAL_ALERT_WEBHOOK_URL": f"{urls['target']}/hook",
                                                "PORTAL_ALLOW_PRIVATE_ADDRESSES": True})
    assert alerts.deliver_pending(db.session, allowed).webhooks == 1 and hits == ["/hook"]
