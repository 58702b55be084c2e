"""The audit trail: every admin change and every refused attempt is recorded here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.models import AuditLog, User


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a model instance as JSON-safe values, for before/after."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    user: User | None = None,
    actor: str | None = None,
    agency_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    note: str | None = None,
) -> AuditLog:
    """Add an audit entry to the session; the caller commits it with the change it describes."""
    entry = AuditLog(
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        user_id=user.id if user is not None and user.id is not None else None,
        actor=actor or (user.email if user is not None else None),
        agency_id=agency_id,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip=ip,
        note=note[:500] if note else None,
    )
    session.add(entry)
    return entry


def actions(session: Session) -> list[str]:
    """Every action recorded so far, for the audit page's filter."""
    return list(session.execute(select(AuditLog.action).distinct().order_by(AuditLog.action)).scalars())


def entries(
    *,
    action: str | None = None,
    actor: str | None = None,
    agency_ids: list[int] | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    zone: tzinfo = UTC,
    entity: tuple[str, str] | None = None,
) -> Select:
    """Audit entries, newest first, filtered by action, actor (part of the e-mail), agencies, calendar days in
    `zone` (both ends included) and one entity (type, id)."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if actor:
        stmt = stmt.where(func.lower(AuditLog.actor).contains(actor.strip().lower(), autoescape=True))
    if agency_ids is not None:
        stmt = stmt.where(AuditLog.agency_id.in_(agency_ids))
    if day_from:
        stmt = stmt.where(AuditLog.at >= datetime.combine(day_from, time.min, zone).astimezone(UTC))
    if day_to:
        stmt = stmt.where(AuditLog.at < datetime.combine(day_to + timedelta(days=1), time.min, zone).astimezone(UTC))
    if entity:
        stmt = stmt.where(AuditLog.entity_type == entity[0], AuditLog.entity_id == entity[1])
    return stmt
