"""Citizens' reports that a service does not work: abuse control, the immediate re-check, the "citizens report
problems" incident, the agency's answer, the public and private views, and the erasure of contacts.

Reports are anonymous. A client is known only by a keyed hash of its address (never stored in clear), which is
enough to fold a client's repeated reports about one service within a day and to rate-limit it. The contact a
reporter may leave is for the agency's officers and the administrators only, is never written to the audit log,
and is erased `contact_retention_days` after the report is closed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.models import (
    FEEDBACK_OPEN,
    FEEDBACK_STATUSES,
    Agency,
    AlertEvent,
    Check,
    FeedbackIncident,
    FeedbackRecheck,
    FeedbackReport,
    Service,
    User,
    utcnow,
)
from portal.services import audit, monitor, sweeps

DESCRIPTION_MAX = 1000
CONTACT_MAX = 255
REPLY_MAX = 2000
ALERT_KIND = "citizen_reports"
FOLD_WINDOW = timedelta(days=1)
RATE_WINDOW = timedelta(hours=1)
RECHECK_LEASE = timedelta(minutes=5)
CLOSED = tuple(s for s in FEEDBACK_STATUSES if s not in FEEDBACK_OPEN)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "resolved", "not_a_problem"),
    "acknowledged": ("resolved", "not_a_problem"),
    "resolved": ("acknowledged",),
    "not_a_problem": ("acknowledged",),
}
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{8,20}$")


@dataclass(frozen=True)
class FeedbackSettings:
    client_limit: int = 5
    service_limit: int = 30
    min_seconds: int = 3
    form_max_hours: int = 24
    incident_threshold: int = 3
    incident_window_minutes: int = 60
    contact_retention_days: int = 90
    max_bytes: int = 16_384

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FeedbackSettings:
        return cls(
            client_limit=int(config.get("PORTAL_FEEDBACK_CLIENT_LIMIT", cls.client_limit)),
            service_limit=int(config.get("PORTAL_FEEDBACK_SERVICE_LIMIT", cls.service_limit)),
            min_seconds=int(config.get("PORTAL_FEEDBACK_MIN_SECONDS", cls.min_seconds)),
            form_max_hours=int(config.get("PORTAL_FEEDBACK_FORM_MAX_HOURS", cls.form_max_hours)),
            incident_threshold=int(config.get("PORTAL_FEEDBACK_INCIDENT_THRESHOLD", cls.incident_threshold)),
            incident_window_minutes=int(config.get("PORTAL_FEEDBACK_INCIDENT_WINDOW_MINUTES",
                                                   cls.incident_window_minutes)),
            contact_retention_days=int(config.get("PORTAL_FEEDBACK_CONTACT_RETENTION_DAYS",
                                                  cls.contact_retention_days)),
            max_bytes=int(config.get("PORTAL_FEEDBACK_MAX_BYTES", cls.max_bytes)),
        )


class FeedbackError(ValueError):
    """A refused report or officer action; `code` names the reason, the message is for people."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


# ---------------------------------------------------------------- abuse control


def client_hash(secret: str, address: str | None) -> str:
    """A keyed hash of the client's address: enough to recognise it again, not to recover it."""
    return hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()


def _signer(secret: str) -> Signer:
    return Signer(secret, salt="portal-feedback-form")


def form_token(secret: str, service_id: int, now: datetime | None = None) -> str:
    """A signed record of when the form was shown, for the minimum time on the page."""
    return _signer(secret).sign(f"{service_id}.{int((now or utcnow()).timestamp())}").decode()


def check_form_token(secret: str, token: str, service_id: int, settings: FeedbackSettings,
                     now: datetime | None = None) -> None:
    """Raise FeedbackError `too_fast` / `expired` / `bad_token` unless the form was shown long enough ago."""
    now = now or utcnow()
    try:
        value = _signer(secret).unsign((token or "").encode()).decode()
        shown_for, _, stamp = value.partition(".")
        age = now.timestamp() - int(stamp)
    except (BadSignature, ValueError, UnicodeDecodeError):
        raise FeedbackError("bad_token") from None
    if shown_for != str(service_id):
        raise FeedbackError("bad_token")
    if age < settings.min_seconds:
        raise FeedbackError("too_fast")
    if age > settings.form_max_hours * 3600:
        raise FeedbackError("expired")


def valid_contact(value: str) -> bool:
    """An e-mail address or a phone number (8–15 digits)."""
    if _EMAIL.match(value):
        return True
    return bool(_PHONE.match(value)) and 8 <= sum(c.isdigit() for c in value) <= 15


# ---------------------------------------------------------------- submitting


@dataclass(frozen=True)
class Submission:
    category: str
    description: str | None = None
    description_public: bool = False
    contact: str | None = None


@dataclass
class SubmitResult:
    outcome: str  # "created" or "folded"
    report: FeedbackReport
    recheck_queued: bool = False
    incident: FeedbackIncident | None = None


def submit(session: Session, service: Service, data: Submission, *, client: str, settings: FeedbackSettings,
           now: datetime | None = None) -> SubmitResult:
    """Store a report (or fold it into the same client's report of the last day), queue the service's re-check
    and open the citizens' incident when the threshold is reached; commits. Raises FeedbackError `client_limit`
    / `service_limit` when too many reports came in the last hour."""
    now = now or utcnow()
    earlier = session.execute(
        select(FeedbackReport)
        .where(FeedbackReport.service_id == service.id, FeedbackReport.client_hash == client,
               FeedbackReport.created_at > now - FOLD_WINDOW)
        .order_by(FeedbackReport.created_at.desc()).limit(1)
    ).scalar_one_or_none()
    if earlier is not None:
        earlier.repeats += 1
        queued = request_recheck(session, service.id, now)
        session.commit()
        return SubmitResult("folded", earlier, queued)
    recent = now - RATE_WINDOW
    by_client = session.execute(select(func.count()).select_from(FeedbackReport).where(
        FeedbackReport.client_hash == client, FeedbackReport.created_at > recent)).scalar_one()
    if by_client >= settings.client_limit:
        raise FeedbackError("client_limit")
    for_service = session.execute(select(func.count()).select_from(FeedbackReport).where(
        FeedbackReport.service_id == service.id, FeedbackReport.created_at > recent)).scalar_one()
    if for_service >= settings.service_limit:
        raise FeedbackError("service_limit")
    report = FeedbackReport(
        service_id=service.id, category=data.category, client_hash=client, created_at=now, status="new",
        description=(data.description or "").strip()[:DESCRIPTION_MAX] or None,
        contact=(data.contact or "").strip()[:CONTACT_MAX] or None,
    )
    report.description_public = bool(report.description and data.description_public)
    session.add(report)
    session.flush()
    audit.record(session, action="feedback.created", entity_type="feedback_report", entity_id=report.id,
                 actor="public", agency_id=service.agency_id,
                 after={"service_id": service.id, "category": report.category, "status": report.status,
                        "has_contact": report.contact is not None})
    queued = request_recheck(session, service.id, now)
    incident = _update_incident(session, service, settings, now)
    session.commit()
    return SubmitResult("created", report, queued, incident)


# ---------------------------------------------------------------- the immediate re-check


def request_recheck(session: Session, service_id: int, now: datetime | None = None) -> bool:
    """Queue a re-check of the service unless one is already waiting; True when this call queued it."""
    now = now or utcnow()
    renewed = session.execute(
        update(FeedbackRecheck)
        .where(FeedbackRecheck.service_id == service_id, FeedbackRecheck.done_at.is_not(None))
        .values(requested_at=now, claimed_at=None, done_at=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    if renewed:
        return True
    if session.get(FeedbackRecheck, service_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(FeedbackRecheck(service_id=service_id, requested_at=now))
    except IntegrityError:
        return False
    return True


def claim_rechecks(session: Session, now: datetime, limit: int = 50) -> list[tuple[int, str]]:
    """Claim waiting re-checks (or ones whose claim expired); commits; returns (service id, url)."""
    waiting = (
        select(FeedbackRecheck.service_id)
        .where(FeedbackRecheck.done_at.is_(None),
               (FeedbackRecheck.claimed_at.is_(None)) | (FeedbackRecheck.claimed_at < now - RECHECK_LEASE))
        .order_by(FeedbackRecheck.requested_at).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        waiting = waiting.with_for_update(skip_locked=True)
    ids = list(session.execute(
        update(FeedbackRecheck).where(FeedbackRecheck.service_id.in_(waiting.scalar_subquery()))
        .values(claimed_at=now).returning(FeedbackRecheck.service_id),
        execution_options={"synchronize_session": False},
    ).scalars())
    session.commit()
    if not ids:
        return []
    return [(row.id, row.url) for row in session.execute(
        select(Service.id, Service.url).where(Service.id.in_(ids)).order_by(Service.id))]


def run_rechecks(session: Session, checker: monitor.Checker, *, settings: monitor.MonitorSettings | None = None,
                 now: datetime | None = None) -> sweeps.SweepReport:
    """Check the claimed services through the normal checker and record the results as any check is recorded
    (health, incidents, alerts); each re-check is then done."""
    now = now or utcnow()
    settings = settings or monitor.MonitorSettings()
    report = sweeps.SweepReport()
    claimed = claim_rechecks(session, now)
    if not claimed:
        return report
    by_url: dict[str, list[int]] = {}
    for service_id, url in claimed:
        by_url.setdefault(url, []).append(service_id)
    try:
        results = list(checker(list(by_url)))
    except Exception as exc:  # noqa: BLE001 - the claim's lease brings them back
        report.note_error(f"checker: {type(exc).__name__}: {exc}", len(claimed))
        return report
    for result in results:
        for service_id in by_url.pop(result.url, []):
            service = session.get(Service, service_id)
            if service is None:
                continue
            if service.status == "active":
                event = monitor.record_result(session, service, result, utcnow(), settings=settings)
                report.checked += 1
                report.alerts += event is not None
            session.execute(update(FeedbackRecheck).where(FeedbackRecheck.service_id == service_id)
                            .values(done_at=utcnow()))
            session.commit()
    for url, ids in by_url.items():
        report.note_error(f"{url}: no result", len(ids))
    return report


@dataclass
class RecheckView:
    state: str  # "done", "queued" or "none"
    check: Check | None = None


def recheck_view(session: Session, report: FeedbackReport) -> RecheckView:
    """What the re-check a report asked for found: the first check since the report, or that it is queued."""
    check = session.execute(
        select(Check).where(Check.service_id == report.service_id, Check.checked_at >= report.created_at)
        .order_by(Check.checked_at.desc(), Check.id.desc()).limit(1)
    ).scalar_one_or_none()
    if check is not None:
        return RecheckView("done", check)
    pending = session.get(FeedbackRecheck, report.service_id)
    return RecheckView("queued" if pending is not None and pending.done_at is None else "none")


# ---------------------------------------------------------------- the citizens' incident


def open_incident(session: Session, service_id: int) -> FeedbackIncident | None:
    return session.execute(
        select(FeedbackIncident).where(FeedbackIncident.service_id == service_id, FeedbackIncident.ended_at.is_(None))
        .order_by(FeedbackIncident.started_at.desc()).limit(1)
    ).scalar_one_or_none()


def _update_incident(session: Session, service: Service, settings: FeedbackSettings,
                     now: datetime) -> FeedbackIncident | None:
    """Open the incident (and its alert) when the threshold is reached within the window; count reports."""
    incident = open_incident(session, service.id)
    if incident is not None:
        incident.reports += 1
        return incident
    window = now - timedelta(minutes=settings.incident_window_minutes)
    count = session.execute(select(func.count()).select_from(FeedbackReport).where(
        FeedbackReport.service_id == service.id, FeedbackReport.created_at > window)).scalar_one()
    if count < max(1, settings.incident_threshold):
        return None
    incident = FeedbackIncident(service_id=service.id, started_at=now, reports=count, health_at_start=service.health)
    session.add(incident)
    session.add(AlertEvent(service_id=service.id, kind=ALERT_KIND, reason=None, created_at=now))
    return incident


def _settle_incident(session: Session, service_id: int, now: datetime) -> None:
    """The incident ends once the agency has closed every open report of the service."""
    incident = open_incident(session, service_id)
    if incident is None:
        return
    still_open = session.execute(select(func.count()).select_from(FeedbackReport).where(
        FeedbackReport.service_id == service_id, FeedbackReport.status.in_(FEEDBACK_OPEN))).scalar_one()
    if not still_open:
        incident.ended_at = now


def open_incidents(session: Session, agency_ids: Sequence[int] | None = None,
                   limit: int = 50) -> list[FeedbackIncident]:
    stmt = (select(FeedbackIncident).join(FeedbackIncident.service)
            .options(joinedload(FeedbackIncident.service).joinedload(Service.agency))
            .where(FeedbackIncident.ended_at.is_(None)).order_by(FeedbackIncident.started_at.desc()).limit(limit))
    if agency_ids is not None:
        stmt = stmt.where(Service.agency_id.in_(list(agency_ids)))
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- the agency's answer


def reports_query(*, scope: list[int] | None, status: str | None = None, service_id: int | None = None) -> Select:
    """Reports an officer (scope: agency ids) or an admin (None) may see, newest first."""
    stmt = (select(FeedbackReport).join(FeedbackReport.service)
            .options(joinedload(FeedbackReport.service).joinedload(Service.agency))
            .order_by(FeedbackReport.created_at.desc(), FeedbackReport.id.desc()))
    if scope is not None:
        stmt = stmt.where(Service.agency_id.in_(scope))
    if status:
        stmt = stmt.where(FeedbackReport.status == status)
    if service_id:
        stmt = stmt.where(FeedbackReport.service_id == service_id)
    return stmt


_AUDITED = ("status", "reply", "acknowledged_at", "first_reply_at", "closed_at")


def change_status(session: Session, report: FeedbackReport, status: str, *, user: User, ip: str | None = None,
                  now: datetime | None = None) -> None:
    """Move a report along new → acknowledged → resolved / not a problem (or reopen it); audited; commits."""
    now = now or utcnow()
    if status not in TRANSITIONS.get(report.status, ()):
        raise FeedbackError("bad_transition")
    before = audit.snapshot(report, _AUDITED)
    action = "feedback.reopened" if report.status in CLOSED else f"feedback.{status}"
    report.status = status
    if status == "acknowledged":
        report.acknowledged_at = report.acknowledged_at or now
        report.closed_at = None
    else:
        report.acknowledged_at = report.acknowledged_at or now
        report.closed_at = now
    audit.record(session, action=action, entity_type="feedback_report", entity_id=report.id, user=user,
                 agency_id=report.service.agency_id, before=before, after=audit.snapshot(report, _AUDITED), ip=ip)
    session.flush()
    if status in CLOSED:
        _settle_incident(session, report.service_id, now)
    session.commit()


def write_reply(session: Session, report: FeedbackReport, text: str, *, user: User, ip: str | None = None,
                now: datetime | None = None) -> None:
    """Publish (or correct) the agency's reply; a first reply also acknowledges a new report; audited; commits."""
    now = now or utcnow()
    text = (text or "").strip()
    if not text:
        raise FeedbackError("empty_reply")
    if len(text) > REPLY_MAX:
        raise FeedbackError("reply_too_long")
    before = audit.snapshot(report, _AUDITED)
    report.reply, report.replied_at = text, now
    report.first_reply_at = report.first_reply_at or now
    if report.status == "new":
        report.status, report.acknowledged_at = "acknowledged", now
    audit.record(session, action="feedback.replied", entity_type="feedback_report", entity_id=report.id, user=user,
                 agency_id=report.service.agency_id, before=before, after=audit.snapshot(report, _AUDITED), ip=ip)
    session.commit()


def erase_contacts(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Erase the contact of every report closed more than `retention_days` ago; audited; commits."""
    now = now or utcnow()
    erased = session.execute(
        update(FeedbackReport)
        .where(FeedbackReport.contact.is_not(None), FeedbackReport.status.in_(CLOSED),
               FeedbackReport.closed_at < now - timedelta(days=retention_days))
        .values(contact=None, contact_erased_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    if erased:
        audit.record(session, action="feedback.contact_erased", entity_type="feedback_report", actor="scheduler",
                     after={"reports": erased, "retention_days": retention_days})
    session.commit()
    return erased


# ---------------------------------------------------------------- public views


def status_counts(session: Session, service_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """{service id: {status: reports}}, for every service with reports (or the ones given)."""
    stmt = select(FeedbackReport.service_id, FeedbackReport.status, func.count()).group_by(
        FeedbackReport.service_id, FeedbackReport.status)
    if service_ids is not None:
        stmt = stmt.where(FeedbackReport.service_id.in_(list(service_ids)))
    out: dict[int, dict[str, int]] = {}
    for service_id, status, count in session.execute(stmt):
        out.setdefault(service_id, dict.fromkeys(FEEDBACK_STATUSES, 0))[status] = count
    return out


def counts_json(by_status: Mapping[str, int] | None) -> dict[str, Any]:
    """Report counts of a service for the API: total, open and per status — nothing a reporter wrote."""
    by_status = {s: int((by_status or {}).get(s, 0)) for s in FEEDBACK_STATUSES}
    return {"total": sum(by_status.values()), "open": sum(by_status[s] for s in FEEDBACK_OPEN),
            "by_status": by_status}


@dataclass
class PublicReport:
    id: int
    category: str
    created_at: datetime
    status: str
    description: str | None
    reply: str | None
    replied_at: datetime | None


def _public(report: FeedbackReport) -> PublicReport:
    return PublicReport(report.id, report.category, report.created_at, report.status,
                        report.description if report.description_public else None, report.reply, report.replied_at)


def public_reports(session: Session, service_id: int, limit: int = 20) -> list[PublicReport]:
    """The latest reports of a service as the public sees them: never the contact, the description only when
    the reporter agreed."""
    return [_public(r) for r in session.execute(
        select(FeedbackReport).where(FeedbackReport.service_id == service_id)
        .order_by(FeedbackReport.created_at.desc(), FeedbackReport.id.desc()).limit(limit)).scalars()]


@dataclass
class AgencyFeedback:
    open_reports: list[tuple[PublicReport, int, str]] = field(default_factory=list)  # (report, service id, name)
    open_total: int = 0
    replied: int = 0
    median_reply_hours: float | None = None


def _hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def agency_feedback(session: Session, agency_ids: Sequence[int], limit: int = 20) -> AgencyFeedback:
    """Open reports of an agency (and its sub-units) and the median time to a first reply."""
    out = AgencyFeedback()
    ids = list(agency_ids)
    in_agency = Service.agency_id.in_(ids)
    out.open_total = session.execute(select(func.count()).select_from(FeedbackReport).join(FeedbackReport.service)
                                     .where(in_agency, FeedbackReport.status.in_(FEEDBACK_OPEN))).scalar_one()
    for report, name in session.execute(
        select(FeedbackReport, Service.name).join(FeedbackReport.service)
        .where(in_agency, FeedbackReport.status.in_(FEEDBACK_OPEN))
        .order_by(FeedbackReport.created_at.desc(), FeedbackReport.id.desc()).limit(limit)
    ):
        out.open_reports.append((_public(report), report.service_id, name))
    times = [_hours(created, replied) for created, replied in session.execute(
        select(FeedbackReport.created_at, FeedbackReport.first_reply_at).join(FeedbackReport.service)
        .where(in_agency, FeedbackReport.first_reply_at.is_not(None)))]
    out.replied = len(times)
    out.median_reply_hours = statistics.median(times) if times else None
    return out


def reply_times(session: Session, first: datetime, last: datetime, now: datetime) -> dict[int, list[float]]:
    """Hours from report to first reply per agency id, for the reports made in [first, last); a report not yet
    answered counts with the time it has waited so far."""
    out: dict[int, list[float]] = {}
    for agency_id, created, replied in session.execute(
        select(Service.agency_id, FeedbackReport.created_at, FeedbackReport.first_reply_at)
        .join(FeedbackReport.service)
        .where(FeedbackReport.created_at >= first, FeedbackReport.created_at < last)
    ):
        out.setdefault(agency_id, []).append(_hours(created, replied or now))
    return out


def median_or_none(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def service_count_rows(session: Session) -> list[list[Any]]:
    """Per service with reports: id, agency code, total and counts per status (the open-data table)."""
    counts = status_counts(session)
    codes = dict(session.execute(select(Service.id, Agency.code).join(Service.agency)
                                 .where(Service.id.in_(list(counts)))).all()) if counts else {}
    return [[service_id, codes.get(service_id), sum(by.values()), *(by[s] for s in FEEDBACK_STATUSES)]
            for service_id, by in sorted(counts.items())]
