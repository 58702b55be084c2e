"""Agencies' quarterly reports on the Government Office template: validation, pre-filling, locking, XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.models import (
    AGENCY_KINDS,
    Agency,
    ApplicationStat,
    QuarterLock,
    QuarterlyReport,
    Service,
    User,
)
from portal.services import agencies as agency_service
from portal.services import audit, periods
from portal.services.exports import neutralise
from portal.services.figures import FiguresError, online_share

REPORT_FIELDS = (
    "services_l3",
    "services_l4",
    "new_services_l3",
    "new_services_l4",
    "received_l3",
    "received_l4",
    "online_l3",
    "online_l4",
)
REPORT_AUDIT_FIELDS = (*REPORT_FIELDS, "note", "period", "agency_id")
_KIND_NAMES = {
    "ministry": "Bộ, cơ quan ngang bộ",
    "government_agency": "Cơ quan thuộc Chính phủ",
    "province": "Tỉnh, thành phố",
}


class QuarterLocked(FiguresError):
    """The quarter is locked: its reports can no longer be changed."""


def report_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Errors of a report's figures: whole numbers ≥ 0, online ≤ received, new ≤ total, per level."""
    errors: dict[str, str] = {}
    for name in REPORT_FIELDS:
        value = values.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "Nhập một số nguyên."
        elif value < 0:
            errors[name] = "Số liệu không được âm."
    for level in (3, 4):
        online, received = values.get(f"online_l{level}"), values.get(f"received_l{level}")
        new, total = values.get(f"new_services_l{level}"), values.get(f"services_l{level}")
        if f"online_l{level}" not in errors and f"received_l{level}" not in errors and online > received:
            errors[f"online_l{level}"] = (
                f"Số hồ sơ trực tuyến mức {level} không được lớn hơn tổng số hồ sơ tiếp nhận mức {level}."
            )
        if f"new_services_l{level}" not in errors and f"services_l{level}" not in errors and new > total:
            errors[f"new_services_l{level}"] = (
                f"Số dịch vụ mức {level} triển khai trong quý không được lớn hơn số dịch vụ mức {level} hiện có."
            )
    return errors


def report_prefill(session: Session, agency: Agency, period: str) -> dict[str, tuple[int, str]]:
    """Figures a new report can start from, field → (value, where it comes from): services registered
    for the agency and its sub-units (by level, at the quarter's end; new ones in the quarter) and the
    application counts imported for the quarter. Fields the portal knows nothing about are left out."""
    ids = agency_service.subunit_ids(session, agency)
    start, end = periods.bounds(period)
    opens = datetime.combine(start, datetime.min.time(), periods.VIETNAM).astimezone(UTC)
    closes = datetime.combine(end + timedelta(days=1), datetime.min.time(), periods.VIETNAM).astimezone(UTC)
    live = (Service.agency_id.in_(ids), Service.created_at < closes,
            or_(Service.status == "active", Service.retired_at >= closes))
    found: dict[str, tuple[int, str]] = {}
    counts = dict(session.execute(select(Service.level, func.count()).where(*live).group_by(Service.level)).all())
    new = dict(session.execute(select(Service.level, func.count()).where(*live, Service.created_at >= opens)
                               .group_by(Service.level)).all())
    stmt = (select(Service.level, func.count(), func.sum(ApplicationStat.received_total),
                   func.sum(ApplicationStat.received_online))
            .join(Service, Service.id == ApplicationStat.service_id)
            .where(ApplicationStat.provenance == "imported", ApplicationStat.period == period,
                   Service.agency_id.in_(ids))
            .group_by(Service.level))
    imported = {level: (n, total, online) for level, n, total, online in session.execute(stmt)}
    for level in (3, 4):
        found[f"services_l{level}"] = (counts.get(level, 0), "registry")
        found[f"new_services_l{level}"] = (new.get(level, 0), "registry")
        if level in imported:
            n, total, online = imported[level]
            if total is not None:
                found[f"received_l{level}"] = (int(total), "imported")
            if online is not None:
                found[f"online_l{level}"] = (int(online), "imported")
    return found


def lock_of(session: Session, period: str) -> tuple[QuarterLock, User | None] | None:
    """The lock on a quarter and who set it, or None."""
    lock = session.get(QuarterLock, period)
    if lock is None:
        return None
    return lock, session.get(User, lock.locked_by_id) if lock.locked_by_id else None


def is_locked(session: Session, period: str) -> bool:
    return session.get(QuarterLock, period) is not None


def get_report(session: Session, agency: Agency, period: str) -> QuarterlyReport | None:
    stmt = select(QuarterlyReport).where(QuarterlyReport.agency_id == agency.id, QuarterlyReport.period == period)
    return session.execute(stmt).scalar_one_or_none()


def _mirror(session: Session, report: QuarterlyReport, now: datetime) -> ApplicationStat:
    """The report's totals as an ApplicationStat with provenance "reported" (one per agency and quarter)."""
    stmt = select(ApplicationStat).where(
        ApplicationStat.agency_id == report.agency_id, ApplicationStat.period == report.period,
        ApplicationStat.provenance == "reported", ApplicationStat.service_id.is_(None),
    )
    stat = session.execute(stmt).scalars().first()
    if stat is None:
        start, end = periods.bounds(report.period)
        stat = ApplicationStat(agency_id=report.agency_id, period=report.period, period_start=start,
                               period_end=end, provenance="reported", status="published")
        session.add(stat)
    stat.received_total = report.received_l3 + report.received_l4
    stat.received_online = report.online_l3 + report.online_l4
    stat.online_rate = online_share(stat.received_online, stat.received_total)
    stat.observed_at = now
    return stat


def save_report(
    session: Session,
    *,
    agency: Agency,
    period: str,
    values: Mapping[str, Any],
    note: str | None = None,
    user: User | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    commit: bool = True,
) -> QuarterlyReport:
    """Submit or edit an agency's report for a quarter, audited, with its reported mirror.

    QuarterLocked when an admin has locked the quarter; FiguresError when the figures are invalid.
    Who may report for which agency is the caller's check (portal.security.can_manage_agency).
    With commit=False the caller commits (an import writes many reports at once).
    """
    periods.parse_quarter(period)
    if is_locked(session, period):
        raise QuarterLocked("quarter locked", {"": "Quý này đã bị khóa, không thể sửa báo cáo."})
    errors = report_errors(values)
    if errors:
        raise FiguresError("invalid report", errors)
    now = now or datetime.now(UTC)
    report = get_report(session, agency, period)
    before = audit.snapshot(report, REPORT_AUDIT_FIELDS) if report is not None else None
    if report is None:
        report = QuarterlyReport(agency_id=agency.id, period=period)
        session.add(report)
    for name in REPORT_FIELDS:
        setattr(report, name, values[name])
    report.note = (note or "").strip() or None
    report.submitted_by_id = user.id if user is not None else None
    report.submitted_at = now
    _mirror(session, report, now)
    session.flush()
    audit.record(
        session, action="report.submit" if before is None else "report.update", entity_type="quarterly_report",
        entity_id=report.id, user=user, actor=actor, agency_id=agency.id, before=before,
        after=audit.snapshot(report, REPORT_AUDIT_FIELDS), ip=ip,
    )
    if commit:
        session.commit()
    return report


def set_locked(session: Session, period: str, locked: bool, *, user: User | None = None,
               ip: str | None = None) -> bool:
    """Lock or unlock a quarter, audited; False when it already was in that state."""
    periods.parse_quarter(period)
    lock = session.get(QuarterLock, period)
    if (lock is not None) == locked:
        return False
    if locked:
        session.add(QuarterLock(period=period, locked_by_id=user.id if user is not None else None))
    else:
        session.delete(lock)
    reports = session.execute(select(QuarterlyReport).where(QuarterlyReport.period == period)).scalars()
    for report in reports:
        report.is_locked = locked
    audit.record(
        session, action="quarter.lock" if locked else "quarter.unlock", entity_type="quarter",
        entity_id=period, user=user, before={"locked": not locked}, after={"locked": locked}, ip=ip,
    )
    session.commit()
    return True


def reports_for_period(session: Session, period: str,
                       agency_ids: Iterable[int] | None = None) -> dict[int, QuarterlyReport]:
    """Reports of a quarter by agency id (only the given agencies when agency_ids is not None)."""
    stmt = select(QuarterlyReport).where(QuarterlyReport.period == period)
    if agency_ids is not None:
        stmt = stmt.where(QuarterlyReport.agency_id.in_(list(agency_ids)))
    return {r.agency_id: r for r in session.execute(stmt).scalars()}


def reportable_agencies(session: Session, agency_ids: list[int] | None) -> list[Agency]:
    """Agencies a user may report for: every current top-level agency (admin), or the officer's scope."""
    if agency_ids is None:
        return agency_service.directory(session)
    agencies = session.execute(select(Agency).where(Agency.id.in_(agency_ids))).scalars().all()
    return sorted(agencies, key=lambda a: (a.parent_id is not None, AGENCY_KINDS.index(a.kind), a.name_folded))


EXPORT_TOP_HEADER = (
    "STT",
    "Cơ quan",
    "Loại cơ quan",
    "Số lượng DVCTT mức 3, 4 hiện tại",
    None,
    "Số lượng DVCTT xây dựng, triển khai {quarter}",
    None,
    "Số lượng HS tiếp nhận, giải quyết trực tuyến",
    None,
    "Tổng số HS tiếp nhận (trực tuyến và trực tiếp)",
    None,
    "Ghi chú",
)
EXPORT_SUB_HEADER = (None, None, None, "Mức 3", "Mức 4", "Mức độ 3", "Mức độ 4", "Mức độ 3", "Mức độ 4",
                     "Mức độ 3", "Mức độ 4", None)
EXPORT_COLUMNS = ("services_l3", "services_l4", "new_services_l3", "new_services_l4", "online_l3", "online_l4",
                  "received_l3", "received_l4")


def export_rows(session: Session, period: str) -> list[list[Any]]:
    """One row per current top-level agency (and any other agency that reported), template column order."""
    reports = reports_for_period(session, period)
    agencies = agency_service.directory(session)
    listed = {a.id for a in agencies}
    extra = [r.agency for r in reports.values() if r.agency_id not in listed]
    rows = []
    for number, agency in enumerate([*agencies, *sorted(extra, key=lambda a: a.name_folded)], start=1):
        report = reports.get(agency.id)
        cells = [getattr(report, name) for name in EXPORT_COLUMNS] if report else [None] * len(EXPORT_COLUMNS)
        note = (report.note or "") if report else "Chưa báo cáo"
        rows.append([number, agency.name, _KIND_NAMES.get(agency.kind, agency.kind), *cells, note])
    return rows


def export_xlsx(session: Session, period: str) -> bytes:
    """All agencies' reports of a quarter as XLSX in the Government Office table layout.

    Row 1 is a title, rows 2–3 the two-level header (merged like the template), data from row 4.
    Text cells go through exports.neutralise, so nothing an officer typed is read as a formula.
    """
    label = periods.label(period)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = period
    title = f"Kết quả triển khai dịch vụ công trực tuyến {label}"
    sheet.append([title])
    sheet.append([h.format(quarter=label) if h else None for h in EXPORT_TOP_HEADER])
    sheet.append(list(EXPORT_SUB_HEADER))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXPORT_TOP_HEADER))
    for column in (1, 2, 3, 12):
        sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    for column in (4, 6, 8, 10):
        sheet.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 1)
    for row in sheet.iter_rows(min_row=1, max_row=3):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in export_rows(session, period):
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for letter, width in zip("ABCDEFGHIJKL", (6, 40, 24, 11, 11, 11, 11, 14, 14, 14, 14, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C4"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


