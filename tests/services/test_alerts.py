"""Alert delivery over a loopback SMTP server (aiosmtpd) and a loopback webhook."""

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.models import AlertEvent, User
from portal.services import alerts, monitor
from tests.monitoring_helpers import make_agency, make_services, result

T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd handler name
        message = message_from_bytes(envelope.content)
        self.messages.append({"to": sorted(envelope.rcpt_tos), "subject": str(make_header(decode_header(
            message["Subject"]))), "body": message.get_payload(decode=True).decode("utf-8")})
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's start() cannot use port 0 itself: pick a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def webhook_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def add_user(db, email, role, agency=None, enabled=True):
    user = User(email=email, role=role, agency_id=agency.id if agency else None, is_enabled=enabled)
    user.set_password("x" * 12)
    db.session.add(user)
    db.session.commit()


def go_down(db, service, at=T0):
    settings = monitor.MonitorSettings(jitter=0)
    for minutes in (0, 2):
        monitor.record_result(db.session, service, result(service.url, "timeout", status=None),
                              at + timedelta(minutes=minutes), settings=settings)


@pytest.fixture
def people(db):
    agency = make_agency(db.session)
    other = make_agency(db.session, code="tinh-khac", name="Tỉnh Khác")
    add_user(db, "canbo@tinh-thu.gov.vn", "officer", agency)
    add_user(db, "nghiviec@tinh-thu.gov.vn", "officer", agency, enabled=False)
    add_user(db, "canbo@tinh-khac.gov.vn", "officer", other)
    add_user(db, "admin@portal.vn", "admin")
    return agency, other


def test_down_and_recovery_are_mailed_to_officers_and_admins_and_posted(db, people, smtp_server, webhook_server):
    agency, _ = people
    port, inbox = smtp_server
    hook, received = webhook_server
    settings = alerts.AlertSettings(smtp_host="127.0.0.1", smtp_port=port, mail_from="canhbao@portal.vn",
                                    allow_private=True,
                                    webhook_url=hook, public_url="https://portal.example")
    (service,) = make_services(db.session, agency, 1)
    go_down(db, service)
    report = alerts.deliver_pending(db.session, settings)
    assert (report.events, report.mails, report.webhooks, report.digest, report.failed) == (1, 1, 1, False, 0)
    (mail,) = inbox.messages
    assert mail["to"] == ["admin@portal.vn", "canbo@tinh-thu.gov.vn"]
    assert "Không truy cập được" in mail["subject"] and "Dịch vụ 0" in mail["subject"]
    assert f"https://portal.example/services/{service.id}" in mail["body"] and "timeout" in mail["body"]
    assert received[0]["type"] == "service.down" and received[0]["service"]["id"] == service.id
    assert received[0]["agency"]["code"] == "tinh-thu"
    # delivered once only
    assert alerts.deliver_pending(db.session, settings).events == 0

    monitor.record_result(db.session, service, result(service.url, "ok"), T0 + timedelta(hours=1))
    alerts.deliver_pending(db.session, settings)
    assert "Đã hoạt động trở lại" in inbox.messages[-1]["subject"]
    assert received[-1]["type"] == "service.recovered"


def test_many_changes_in_one_sweep_send_a_digest(db, people, smtp_server, webhook_server):
    agency, other = people
    port, inbox = smtp_server
    hook, received = webhook_server
    settings = alerts.AlertSettings(smtp_host="127.0.0.1", smtp_port=port, webhook_url=hook, storm_threshold=10,
                                    allow_private=True)
    for service in make_services(db.session, agency, 8) + make_services(db.session, other, 5, prefix="https://k/"):
        go_down(db, service)
    report = alerts.deliver_pending(db.session, settings)
    assert report.digest and report.events == 13
    recipients = sorted(m["to"][0] for m in inbox.messages)
    assert recipients == ["admin@portal.vn", "canbo@tinh-khac.gov.vn", "canbo@tinh-thu.gov.vn"]
    admin_mail = next(m for m in inbox.messages if m["to"] == ["admin@portal.vn"])
    assert "13 dịch vụ" in admin_mail["subject"]
    officer_mail = next(m for m in inbox.messages if m["to"] == ["canbo@tinh-khac.gov.vn"])
    assert "5 dịch vụ" in officer_mail["body"]
    assert len(received) == 1 and received[0]["type"] == "digest" and received[0]["count"] == 13


def test_failed_delivery_stays_pending_and_is_retried(db, people, webhook_server):
    agency, _ = people
    hook, received = webhook_server
    (service,) = make_services(db.session, agency, 1)
    go_down(db, service)
    broken = alerts.AlertSettings(smtp_host="127.0.0.1", smtp_port=1, webhook_url=hook, allow_private=True)
    report = alerts.deliver_pending(db.session, broken)
    assert report.failed == 1 and "smtp" in report.errors[0]
    event = db.session.execute(select(AlertEvent)).scalar_one()
    assert event.sent_at is None and event.attempts == 1
    fixed = alerts.AlertSettings(webhook_url=hook, allow_private=True)
    assert alerts.deliver_pending(db.session, fixed).webhooks == 1
    db.session.refresh(event)
    assert event.sent_at is not None


def test_settings_from_config():
    settings = alerts.AlertSettings.from_config({
        "PORTAL_SMTP_HOST": "mail", "PORTAL_SMTP_PORT": "587", "PORTAL_SMTP_STARTTLS": True,
        "PORTAL_ALERT_STORM_THRESHOLD": "3", "PORTAL_PUBLIC_URL": "https://x/"})
    assert (settings.smtp_host, settings.smtp_port, settings.starttls, settings.storm_threshold) == (
        "mail", 587, True, 3)
    assert settings.public_url == "https://x"
