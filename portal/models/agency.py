"""Agencies: ministries, government agencies, provinces and their sub-units."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import Base, utcnow
from portal.text import fold

AGENCY_KINDS = ("ministry", "government_agency", "province")


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(f"kind IN {AGENCY_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(30), index=True)
    portal_url: Mapped[str | None] = mapped_column(String(500))
    gso_code: Mapped[str | None] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    reorganisation_basis: Mapped[str | None] = mapped_column(String(255))
    check_interval_minutes: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Agency | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Agency]] = relationship(foreign_keys=[parent_id], back_populates="parent")
    successor: Mapped[Agency | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    @validates("name")
    def _derive_folded(self, key: str, value: str) -> str:
        self.name_folded = fold(value)
        return value

    def is_current(self, on: date | None = None) -> bool:
        """True when the agency exists on the given day (today by default)."""
        on = on or date.today()
        if self.valid_from and on < self.valid_from:
            return False
        return not (self.valid_to and on >= self.valid_to)

    def final_successor(self) -> Agency | None:
        """The agency a former agency is part of now, following successive mergers (None for a current one)."""
        seen, agency = {self.id}, self
        while agency.successor is not None and agency.successor.id not in seen and not agency.is_current():
            agency = agency.successor
            seen.add(agency.id)
        return agency if agency is not self else None

    def top(self) -> Agency:
        """The top-level agency this unit rolls up to."""
        agency = self
        while agency.parent is not None:
            agency = agency.parent
        return agency

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"
