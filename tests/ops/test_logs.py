"""Logs an operator can use: one format (plain or JSON), a line per health change and per alert."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

from portal import logs
from portal.models import utcnow
from portal.services import alerts, monitor
from tests.monitoring_helpers import make_agency, make_services, result


def _lines(caplog, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def test_a_line_per_health_change_names_service_agency_and_reason(db, caplog):
    caplog.set_level(logging.INFO)
    agency = make_agency(db.session, code="ha-noi", name="Hà Nội")
    service = make_services(db.session, agency, 1)[0]
    now = utcnow()
    for minutes, reason in ((0, "ok"), (1, "timeout"), (3, "timeout"), (4, "timeout"), (6, "ok")):
        monitor.record_result(db.session, service, result(service.url, reason), now + timedelta(minutes=minutes))
    changes = [r.getMessage() for r in _lines(caplog, "portal.services.monitor") if "health" in r.getMessage()]
    assert changes == [
        f"health unknown -> up: service {service.id} 'Dịch vụ 0' of agency ha-noi (ok)",
        f"health up -> down: service {service.id} 'Dịch vụ 0' of agency ha-noi (timeout)",
        f"health down -> up: service {service.id} 'Dịch vụ 0' of agency ha-noi (ok)",
    ]


def test_a_line_per_alert_delivered_or_skipped_and_why(db, caplog):
    caplog.set_level(logging.INFO)
    agency = make_agency(db.session, code="ha-noi", name="Hà Nội")
    service = make_services(db.session, agency, 1)[0]
    now = utcnow()
    for minutes in (0, 1):
        monitor.record_result(db.session, service, result(service.url, "timeout"), now + timedelta(minutes=minutes))
    report = alerts.deliver_pending(db.session, alerts.AlertSettings())
    assert report.events == 1
    skipped = [r for r in _lines(caplog, "portal.services.alerts") if getattr(r, "status", "") == "skipped"]
    assert len(skipped) == 1
    assert "(down) for service" in skipped[0].getMessage() and "of agency ha-noi skipped: no channel" in \
        skipped[0].getMessage()

    monitor.record_result(db.session, service, result(service.url), now + timedelta(minutes=2))
    hooks = []
    alerts.deliver_pending(db.session, alerts.AlertSettings(webhook_url="http://127.0.0.1:9/hook", allow_private=True),
                           webhook=lambda url, payload, **_: hooks.append(payload))
    delivered = [r.getMessage() for r in _lines(caplog, "portal.services.alerts")
                 if getattr(r, "status", "") == "delivered"]
    assert len(hooks) == 1 and len(delivered) == 1 and "(recovered)" in delivered[0] and "by webhook" in delivered[0]

    monitor.record_result(db.session, service, result(service.url, "timeout"), now + timedelta(minutes=3))
    monitor.record_result(db.session, service, result(service.url, "timeout"), now + timedelta(minutes=4))

    def broken(url, payload, **_):
        raise OSError("connection refused")

    hook = alerts.AlertSettings(webhook_url="http://127.0.0.1:9/hook", allow_private=True)
    alerts.deliver_pending(db.session, hook, webhook=broken)
    failed = [r.getMessage() for r in _lines(caplog, "portal.services.alerts") if getattr(r, "status", "") == "failed"]
    assert len(failed) == 1 and "not delivered (attempt 1 of 5, will retry): webhook: connection refused" in failed[0]


def _emit(fmt: str, logger: str, message: str, *args, **extra) -> str:
    stream = io.StringIO()
    config = logs.dict_config(fmt)
    config["handlers"]["stderr"]["stream"] = stream
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(config)
    try:
        logging.getLogger(logger).warning(message, *args, extra=extra)
    finally:
        root.handlers[:], root.level = saved
        for name in config["loggers"]:
            logging.getLogger(name).setLevel(logging.NOTSET)
    return stream.getvalue()


def test_one_format_plain_or_json_for_the_portal_and_gunicorn():
    plain = _emit("plain", "gunicorn.access", '%s "%s" %s', "127.0.0.1", "GET / HTTP/1.1", 200)
    assert plain.endswith(' WARNING gunicorn.access: 127.0.0.1 "GET / HTTP/1.1" 200\n')
    line = _emit("json", "portal.services.monitor", "health %s -> %s", "up", "down", agency="ha-noi", service_id=7)
    assert line.count("\n") == 1
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "portal.services.monitor"
    assert entry["message"] == "health up -> down" and entry["agency"] == "ha-noi" and entry["service_id"] == 7
    assert entry["time"].endswith("+00:00")
