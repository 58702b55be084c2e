"""Official per-agency report figures and the agencies' quarterly reports imported from files: all-or-nothing,
idempotent, audited (the shared steps are bulk_import's)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Agency, ReportFigure, User
from portal.services import audit, importing, periods, quarterly_reports
from portal.services.bulk_import import (
    ImportOutcome,
    PlannedRow,
    canonical_period,
    finish_import,
    read_rows,
)
from portal.services.importing import ROW_KEY, RowError

REPORT_FIELDS = tuple(
    f.name for f in dataclasses.fields(importing.ReportRow) if f.name not in ("row", "agency_code", "period")
)


def import_report(
    session: Session,
    data: bytes,
    filename: str,
    *,
    period: str,
    user: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
    dry_run: bool = False,
) -> ImportOutcome:
    """Import official per-agency figures for a period (columns as in report_2016.csv): all or none, audited."""
    outcome = ImportOutcome("report", filename, sha256=hashlib.sha256(data).hexdigest(), period=period,
                            dry_run=dry_run)
    period = canonical_period(period, outcome) or ""
    if not outcome.ok:
        return outcome
    agencies = {a.code: a for a in session.execute(select(Agency)).scalars()}
    rows = read_rows(data, filename, outcome)
    changes: list[tuple[PlannedRow, Agency, ReportFigure | None, dict[str, Any]]] = []
    if rows is not None:
        parsed = importing.parse_report(rows, period=period, known_agencies=set(agencies))
        outcome.errors.extend(parsed.errors)
        headers = [h for h in rows[0] if h != ROW_KEY] if rows else []
        present = [f for f in REPORT_FIELDS if f in {importing.report_field_for_header(h) for h in headers}]
        existing = {
            f.agency_id: f for f in session.execute(select(ReportFigure).where(ReportFigure.period == period)).scalars()
        }
        for row in parsed.rows:
            agency = agencies[row.agency_code]
            figure = existing.get(agency.id)
            desired = {name: getattr(row, name) for name in present}
            diff = {
                name: (getattr(figure, name) if figure else None, value)
                for name, value in desired.items() if figure is None or getattr(figure, name) != value
            }
            action = "add" if figure is None else ("update" if diff else "unchanged")
            plan = PlannedRow(row=row.row, action=action, agency_code=agency.code, label=agency.name,
                              entity_id=figure.id if figure else None, changes=diff)
            changes.append((plan, agency, figure, desired))
        outcome.planned = [c[0] for c in changes]
    fields = ("agency_id", "period", *REPORT_FIELDS, "source")

    def write() -> None:
        for plan, agency, figure, desired in changes:
            if plan.action == "unchanged":
                continue
            before = audit.snapshot(figure, fields) if figure is not None else None
            if figure is None:
                figure = ReportFigure(agency_id=agency.id, period=period)
                session.add(figure)
            for name, value in desired.items():
                setattr(figure, name, value)
            figure.source = f"Nhập từ tệp {filename}"[:255]
            session.flush()
            plan.entity_id = figure.id
            audit.record(session, action="report_figure.create" if before is None else "report_figure.update",
                         entity_type="report_figure", entity_id=f"{agency.code}/{period}", user=user, actor=actor,
                         agency_id=agency.id, before=before, after=audit.snapshot(figure, fields), ip=ip)
        audit.record(session, action="import.report", entity_type="import", entity_id=filename[:80], user=user,
                     actor=actor, before=None,
                     after={"file": filename, "sha256": outcome.sha256, "period": period,
                            "rows": len(changes), **outcome.summary()}, ip=ip)

    return finish_import(session, outcome, write, dry_run=dry_run, user=user, actor=actor, ip=ip, agency_id=None)




def import_quarterly(
    session: Session,
    data: bytes,
    filename: str,
    *,
    period: str | None = None,
    scope: list[int] | None = None,
    user: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
    dry_run: bool = False,
) -> ImportOutcome:
    """Import agencies' quarterly reports from the table /admin/reports/<period>.xlsx exports: all or none,
    audited. The quarter is the one the file's title names (or `period`); agencies are found by name
    or code; rows without figures (agencies that did not report) are left alone."""
    outcome = ImportOutcome("quarterly", filename, sha256=hashlib.sha256(data).hexdigest(), dry_run=dry_run)
    period = canonical_period(period, outcome)
    try:
        table = importing.parse_quarterly(importing.read_grid(data, filename))
    except importing.ImportFileError as exc:
        outcome.errors.append(RowError(0, "", str(exc)))
        table = importing.QuarterlyTable()
    outcome.errors.extend(table.errors)
    outcome.skipped = table.skipped
    if period and table.period and period != table.period:
        outcome.errors.append(RowError(0, "period", (
            f"Tệp là báo cáo {periods.label(table.period)}, không phải {periods.label(period)}")))
    period = period or table.period
    if outcome.ok and not periods.is_quarter(period or ""):
        outcome.errors.append(RowError(0, "period", "Không rõ tệp là báo cáo quý nào; hãy cho biết kỳ, "
                                                    "ví dụ Quý III/2026"))
    if not outcome.ok:
        return finish_import(session, outcome, lambda: None, dry_run=dry_run, user=user, actor=actor, ip=ip,
                       agency_id=None)
    assert period is not None  # noqa: S101 - checked above
    outcome.period = period
    if quarterly_reports.is_locked(session, period):
        outcome.errors.append(RowError(0, "period", f"{periods.label(period)} đã khóa, không thể nhập báo cáo"))
    agencies: dict[str, Agency] = {}
    for agency in session.execute(select(Agency)).scalars():
        agencies.setdefault(agency.code, agency)
        agencies.setdefault(importing.fold(agency.name), agency)
    existing = quarterly_reports.reports_for_period(session, period)
    work: list[tuple[PlannedRow, Agency, dict[str, Any], str | None]] = []
    for row in table.rows:
        agency = agencies.get(row.agency.lower()) or agencies.get(importing.fold(row.agency))
        if agency is None:
            outcome.errors.append(RowError(row.row, "agency", f"Không có cơ quan “{row.agency}”"))
            continue
        if not row.figures:
            continue
        if scope is not None and agency.id not in scope:
            outcome.errors.append(RowError(row.row, "agency", f"Bạn không quản lý cơ quan “{agency.name}”"))
            continue
        for name, message in quarterly_reports.report_errors(row.figures).items():
            outcome.errors.append(RowError(row.row, name, message))
        report = existing.get(agency.id)
        desired = {**row.figures, "note": row.note}
        current = {name: getattr(report, name) for name in desired} if report is not None else {}
        diff = {name: (current.get(name), value) for name, value in desired.items()
                if report is None and value is not None or report is not None and current[name] != value}
        action = "add" if report is None else ("update" if diff else "unchanged")
        work.append((PlannedRow(row=row.row, action=action, agency_code=agency.code, label=agency.name,
                                entity_id=report.id if report else None, changes=diff), agency, row.figures, row.note))
    outcome.planned = [w[0] for w in work]

    def write() -> None:
        for plan, agency, values, note in work:
            if plan.action != "unchanged":
                saved = quarterly_reports.save_report(session, agency=agency, period=period, values=values, note=note,
                                            user=user, actor=actor, ip=ip, commit=False)
                plan.entity_id = saved.id
        audit.record(session, action="import.quarterly", entity_type="import", entity_id=filename[:80], user=user,
                     actor=actor, before=None, after={"file": filename, "sha256": outcome.sha256, "period": period,
                                                      "rows": len(work), **outcome.summary()}, ip=ip)

    return finish_import(session, outcome, write, dry_run=dry_run, user=user, actor=actor, ip=ip, agency_id=None)
