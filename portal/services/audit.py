"""The audit trail: every admin change and every refused attempt is recorded here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
