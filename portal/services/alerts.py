"""Alerts: tell the agency's officers and the administrators when a service goes down, dies or recovers.

Recording a check writes an AlertEvent (portal.services.monitor); `deliver_pending` sends what is
pending — one e-mail per event (and a webhook POST when PORTAL_ALERT_WEBHOOK_URL is set), or, when more
than PORTAL_ALERT_STORM_THRESHOLD events are pending at once (a sweep that saw many services change),
one digest per recipient and one webhook POST instead of a storm. Undelivered events are retried on the
next run, up to MAX_ATTEMPTS times.
"""

from __future__ import annotations

import http.client
import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.crawlers.guard import GuardError, resolve_public
from portal.models import AlertEvent, MonitorFault, Service, User, utcnow
from portal.services.availability import DAY_ZONE
from portal.services.monitor import acquire_lock, lock_holder, release_lock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
DELIVERY_LOCK = "alert-delivery"
SUBJECTS = {
    "down": "Không truy cập được",
    "dead": "Ngừng hoạt động (không truy cập được quá 7 ngày)",
    "recovered": "Đã hoạt động trở lại",
    "citizen_reports": "Người dân phản ánh dịch vụ không dùng được",
}


@dataclass(frozen=True)
class AlertSettings:
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    starttls: bool = False
    mail_from: str = "cong-dich-vu-cong@localhost"
    webhook_url: str = ""
    storm_threshold: int = 10
    public_url: str = "http://127.0.0.1:5000"
    allow_private: bool = False  # webhook on a private address (PORTAL_ALLOW_PRIVATE_ADDRESSES)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AlertSettings:
        return cls(
            smtp_host=config.get("PORTAL_SMTP_HOST") or "",
            smtp_port=int(config.get("PORTAL_SMTP_PORT") or 25),
            smtp_user=config.get("PORTAL_SMTP_USER") or "",
            smtp_password=config.get("PORTAL_SMTP_PASSWORD") or "",
            starttls=bool(config.get("PORTAL_SMTP_STARTTLS")),
            mail_from=config.get("PORTAL_MAIL_FROM") or cls.mail_from,
            webhook_url=config.get("PORTAL_ALERT_WEBHOOK_URL") or "",
            storm_threshold=int(config.get("PORTAL_ALERT_STORM_THRESHOLD") or 10),
            public_url=(config.get("PORTAL_PUBLIC_URL") or cls.public_url).rstrip("/"),
            allow_private=bool(config.get("PORTAL_ALLOW_PRIVATE_ADDRESSES")),
        )


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


@dataclass
class DeliveryReport:
    events: int = 0
    mails: int = 0
    webhooks: int = 0
    digest: bool = False
    failed: int = 0
    locked: bool = False
    errors: list[str] = field(default_factory=list)


def recipients(session: Session, agency_ids: Sequence[int]) -> tuple[dict[int, list[str]], list[str]]:
    """Enabled officers per agency id, and enabled administrators."""
    officers: dict[int, list[str]] = {}
    for email, agency_id in session.execute(
        select(User.email, User.agency_id).where(
            User.role == "officer", User.is_enabled.is_(True), User.agency_id.in_(list(agency_ids)))
        .order_by(User.email)
    ):
        officers.setdefault(agency_id, []).append(email)
    admins = list(session.execute(
        select(User.email).where(User.role == "admin", User.is_enabled.is_(True)).order_by(User.email)
    ).scalars())
    return officers, admins


def _local(moment: datetime) -> str:
    return moment.astimezone(DAY_ZONE).strftime("%d/%m/%Y %H:%M")


def event_json(event: AlertEvent, settings: AlertSettings) -> dict[str, Any]:
    service = event.service
    return {
        "id": event.id,
        "kind": event.kind,
        "reason": event.reason,
        "at": event.created_at.isoformat(),
        "service": {
            "id": service.id, "name": service.name, "url": service.url, "health": service.health,
            "page": f"{settings.public_url}/services/{service.id}",
        },
        "agency": {"code": service.agency.code, "name": service.agency.name},
        "incident_id": event.incident_id,
    }


def _event_lines(event: AlertEvent, settings: AlertSettings) -> list[str]:
    service = event.service
    lines = [
        f"{SUBJECTS.get(event.kind, event.kind)}: {service.name}",
        f"Cơ quan: {service.agency.name}",
        f"Địa chỉ: {service.url}",
        f"Thời điểm: {_local(event.created_at)}",
    ]
    if event.reason:
        lines.append(f"Lý do: {event.reason}")
    lines.append(f"Chi tiết: {settings.public_url}/services/{service.id}")
    return lines


def compose(events: Sequence[AlertEvent], settings: AlertSettings, officers: dict[int, list[str]],
            admins: list[str], *, digest: bool) -> list[Mail]:
    """The e-mails to send: one per event, or one digest per group of recipients."""
    if not digest:
        mails = []
        for event in events:
            to = sorted(set(officers.get(event.service.agency_id, [])) | set(admins))
            if to:
                subject = f"[Cổng dịch vụ công] {SUBJECTS.get(event.kind, event.kind)}: {event.service.name}"
                mails.append(Mail(to, subject[:200], "\n".join(_event_lines(event, settings)) + "\n"))
        return mails

    def digest_mail(to: list[str], chunk: Sequence[AlertEvent]) -> Mail:
        counts = {kind: sum(1 for e in chunk if e.kind == kind) for kind in SUBJECTS}
        summary = ", ".join(f"{SUBJECTS[k].split(' (')[0].lower()}: {n}" for k, n in counts.items() if n)
        body = [f"{len(chunk)} dịch vụ thay đổi tình trạng ({summary}).", ""]
        for event in chunk:
            body += [*_event_lines(event, settings), ""]
        body.append(f"Tình trạng toàn quốc: {settings.public_url}/status")
        return Mail(sorted(set(to)), f"[Cổng dịch vụ công] Tổng hợp: {len(chunk)} dịch vụ thay đổi tình trạng",
                    "\n".join(body) + "\n")

    mails = [digest_mail(admins, events)] if admins else []
    by_agency: dict[int, list[AlertEvent]] = {}
    for event in events:
        by_agency.setdefault(event.service.agency_id, []).append(event)
    for agency_id, chunk in by_agency.items():
        to = [email for email in officers.get(agency_id, []) if email not in admins]
        if to:
            mails.append(digest_mail(to, chunk))
    return mails


def send_mails(mails: Sequence[Mail], settings: AlertSettings) -> None:
    """Send over one SMTP connection (STARTTLS and login when configured)."""
    if not mails:
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        for mail in mails:
            message = EmailMessage()
            message["From"] = settings.mail_from
            message["To"] = ", ".join(mail.to)
            message["Subject"] = mail.subject
            message["Date"] = format_datetime(utcnow())
            message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
            message.set_content(mail.body)
            smtp.send_message(message)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the guard vetted, not to whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0, *, allow_private: bool = False) -> None:
    """POST the payload as JSON through the crawler's address guard (no private addresses unless allowed,
    the vetted address is the one connected to), following no redirect, within `timeout` seconds per step."""
    try:
        target, address = resolve_public(url, allow_private=allow_private, timeout=timeout)
    except GuardError as exc:
        raise ValueError(f"PORTAL_ALERT_WEBHOOK_URL refused: {exc}") from None
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address, timeout)
    path = target.url.raw_path_qs or "/"
    try:
        connection.request("POST", path, body=json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "CongDichVuCong-alerts",
        })
        response = connection.getresponse()
        response.read(64 * 1024)
    finally:
        connection.close()
    if 300 <= response.status < 400:
        raise ValueError(f"webhook answered {response.status} (redirects are not followed)")
    if response.status >= 400:
        raise ValueError(f"webhook answered {response.status}")


def _log_delivery(event: AlertEvent, settings: AlertSettings, report: DeliveryReport, errors: list[str]) -> None:
    """One line per alert: delivered (how), not delivered (why, and whether it is retried) or skipped."""
    service = event.service
    what = f"alert {event.id} ({event.kind}) for service {service.id} of agency {service.agency.code}"
    fields = {"alert_id": event.id, "kind": event.kind, "service_id": service.id, "agency": service.agency.code}
    channels = [name for name, on in (("e-mail", settings.smtp_host), ("webhook", settings.webhook_url)) if on]
    if not channels:
        log.info("%s skipped: no channel configured (PORTAL_SMTP_HOST and PORTAL_ALERT_WEBHOOK_URL are empty)",
                 what, extra={**fields, "status": "skipped"})
    elif errors:
        retry = "will retry" if event.attempts < MAX_ATTEMPTS else "gave up"
        log.warning("%s not delivered (attempt %d of %d, %s): %s", what, event.attempts, MAX_ATTEMPTS, retry,
                    "; ".join(errors), extra={**fields, "status": "failed"})
    else:
        log.info("%s delivered by %s%s", what, " and ".join(channels), " (digest)" if report.digest else "",
                 extra={**fields, "status": "delivered"})


def deliver_pending(
    session: Session,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    mailer: Callable[[Sequence[Mail], AlertSettings], None] = send_mails,
    webhook: Callable[..., None] = post_webhook,
) -> DeliveryReport:
    """Send every pending alert event; commits. Only one delivery runs at a time (a lock row)."""
    now = now or utcnow()
    report = DeliveryReport()
    holder = lock_holder()
    if not acquire_lock(session, DELIVERY_LOCK, holder, timedelta(minutes=10), now):
        report.locked = True
        return report
    try:
        events = list(session.execute(
            select(AlertEvent)
            .options(joinedload(AlertEvent.service).joinedload(Service.agency))
            .where(AlertEvent.sent_at.is_(None), AlertEvent.attempts < MAX_ATTEMPTS)
            .order_by(AlertEvent.created_at, AlertEvent.id)
        ).scalars())
        report.events = len(events)
        if not events:
            return report
        report.digest = len(events) > settings.storm_threshold
        officers, admins = recipients(session, sorted({e.service.agency_id for e in events}))
        errors: list[str] = []
        if settings.smtp_host:
            mails = compose(events, settings, officers, admins, digest=report.digest)
            try:
                mailer(mails, settings)
                report.mails = len(mails)
            except Exception as exc:  # noqa: BLE001 - keep the events pending and retry later
                log.warning("alert e-mail failed: %s", exc)
                errors.append(f"smtp: {exc}")
        if settings.webhook_url:
            payloads = ([{"type": "digest", "count": len(events), "events": [event_json(e, settings) for e in events]}]
                        if report.digest else
                        [{"type": f"service.{e.kind}", **event_json(e, settings)} for e in events])
            try:
                for payload in payloads:
                    webhook(settings.webhook_url, payload, allow_private=settings.allow_private)
                    report.webhooks += 1
            except Exception as exc:  # noqa: BLE001
                log.warning("alert webhook failed: %s", exc)
                errors.append(f"webhook: {exc}")
        for event in events:
            event.attempts += 1
            if errors:
                event.last_error = "; ".join(errors)[:500]
                report.failed += 1
            else:
                event.sent_at = now
            _log_delivery(event, settings, report, errors)
        report.errors = errors
        session.commit()
        return report
    finally:
        release_lock(session, DELIVERY_LOCK, holder)


def deliver_monitor_faults(
    session: Session,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    mailer: Callable[[Sequence[Mail], AlertSettings], None] = send_mails,
    webhook: Callable[..., None] = post_webhook,
) -> int:
    """One operator alert per monitor fault (administrators only, never the agencies); commits.

    Returns the faults delivered; undelivered ones are retried on the next run, up to MAX_ATTEMPTS."""
    now = now or utcnow()
    faults = list(session.execute(
        select(MonitorFault).where(MonitorFault.alerted_at.is_(None), MonitorFault.alert_attempts < MAX_ATTEMPTS)
        .order_by(MonitorFault.started_at)
    ).scalars())
    if not faults:
        return 0
    _officers, admins = recipients(session, [])
    delivered = 0
    for fault in faults:
        lines = [
            f"Giám sát gián đoạn từ {_local(fault.started_at)}: máy chủ giám sát không truy cập được mạng.",
            f"Lý do: {fault.reason} ({fault.detail or ''})",
            "Các lần kiểm tra trong thời gian này không được tính cho cơ quan nào; không có cảnh báo gửi tới cơ quan.",
            f"Tình trạng: {settings.public_url}/status",
        ]
        errors: list[str] = []
        if settings.smtp_host and admins:
            try:
                mailer([Mail(admins, "[Cổng dịch vụ công] Giám sát gián đoạn", "\n".join(lines) + "\n")], settings)
            except Exception as exc:  # noqa: BLE001 - retried on the next run
                errors.append(f"smtp: {exc}")
        if settings.webhook_url:
            try:
                webhook(settings.webhook_url, {
                    "type": "monitor.fault", "id": fault.id, "reason": fault.reason, "detail": fault.detail,
                    "started_at": fault.started_at.isoformat(), "hosts": fault.hosts,
                    "failed_hosts": fault.failed_hosts,
                }, allow_private=settings.allow_private)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"webhook: {exc}")
        fault.alert_attempts += 1
        if errors:
            log.warning("monitor fault alert failed: %s", "; ".join(errors))
        else:
            fault.alerted_at = now
            delivered += 1
    session.commit()
    return delivered
