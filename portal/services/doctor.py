"""Integrity checks over the database, read-only: what `portal doctor` lists for an operator to fix."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Agency, Service
from portal.services.addresses import url_key


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str


def duplicate_addresses(session: Session) -> list[Problem]:
    """Services of one agency at the same address (kept apart by migration 0006, or written around the index)."""
    rows = session.execute(
        select(Service.id, Service.agency_id, Service.url, Service.url_key, Service.status, Agency.code)
        .join(Agency, Agency.id == Service.agency_id).order_by(Service.id)
    ).all()
    groups: dict[tuple[int, str], list] = {}
    problems: list[Problem] = []
    for row in rows:
        key = url_key(row.url)
        groups.setdefault((row.agency_id, key), []).append(row)
        if row.url_key != key and not row.url_key.startswith("duplicate "):
            problems.append(Problem("stale-key", f"service #{row.id}: stored address key {row.url_key!r} "
                                                 f"does not match its address {row.url!r}"))
    for (_agency_id, key), members in groups.items():
        if len(members) > 1:
            listed = ", ".join(f"#{m.id} ({m.status})" for m in members)
            problems.append(Problem("duplicate-address", (
                f"agency {members[0].code}: {key} is registered by {len(members)} services: {listed}; "
                "change the address of all but one or retire them"
            )))
    return problems


def integrity_problems(session: Session) -> list[Problem]:
    """Every problem found, in a stable order; nothing is written."""
    try:
        return duplicate_addresses(session)
    finally:
        session.rollback()
