"""Administrative procedures (thủ tục hành chính) and the catalogues that list them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.agency import Agency
from portal.models.base import Base, utcnow
from portal.text import fold


class Procedure(Base):
    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    name_folded: Mapped[str] = mapped_column(String(500), default="")
    field: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("name")
    def _derive_folded(self, key: str, value: str) -> str:
        self.name_folded = fold(value)
        return value

    memberships: Mapped[list[CatalogueEntry]] = relationship(back_populates="procedure")


class CatalogueEntry(Base):
    """A procedure's membership in a catalogue, e.g. Decision 846/QĐ-TTg for provinces at level 4.

    `scope` is "ministry" (required of ministries and government agencies) or "province" (of every
    province). `agency` narrows an entry to the one agency responsible for it, as Decision 846 lists
    each ministry's procedures under that ministry; a merged agency's entries pass to its successor.
    """

    __tablename__ = "catalogue_entries"
    __table_args__ = (UniqueConstraint("catalogue", "procedure_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue: Mapped[str] = mapped_column(String(80), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    scope: Mapped[str] = mapped_column(String(30))
    required_level: Mapped[int]
    is_sample: Mapped[bool] = mapped_column(default=False)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)

    procedure: Mapped[Procedure] = relationship(back_populates="memberships")
    agency: Mapped[Agency | None] = relationship()
