"""Figures an official report published for an agency and period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.agency import Agency
from portal.models.base import Base, utcnow

INDEX_COLUMNS = (
    "it_infrastructure_index",
    "it_internal_index",
    "website_index",
    "it_policy_index",
    "it_hr_index",
)


class ReportFigure(Base):
    __tablename__ = "report_figures"
    __table_args__ = (UniqueConstraint("agency_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    services_l3: Mapped[int | None]
    services_l4: Mapped[int | None]
    online_applications: Mapped[int | None]
    it_infrastructure_index: Mapped[float | None]
    it_internal_index: Mapped[float | None]
    website_index: Mapped[float | None]
    it_policy_index: Mapped[float | None]
    it_hr_index: Mapped[float | None]
    source: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()

    @property
    def services_total(self) -> int | None:
        if self.services_l3 is None and self.services_l4 is None:
            return None
        return (self.services_l3 or 0) + (self.services_l4 or 0)
