"""Online services: one agency's implementation of a procedure at level 3 or 4."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.agency import Agency
from portal.models.base import Base, utcnow
from portal.models.procedure import Procedure
from portal.models.search import install_search
from portal.services.addresses import url_key
from portal.text import fold, lower_nfc
from portal.vocabulary import HEALTH_STATES

SERVICE_STATUSES = ("active", "retired")


def _key_of_inserted_url(context) -> str:
    """Core inserts (bulk seeds) get the key of their address too."""
    return url_key(context.get_current_parameters()["url"])


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("level IN (3, 4)", name="level"),
        CheckConstraint(f"status IN {SERVICE_STATUSES!r}", name="status"),
        CheckConstraint(f"health IN {HEALTH_STATES!r}", name="health"),
        Index("ix_services_agency_status", "agency_id", "status"),
        Index("ix_services_status_health", "status", "health"),
        Index("ix_services_due", "status", "next_check_at"),
        # cover the per-agency counts of the rankings: now (small: few distinct keys), and the services
        # registered after a quarter's end (to count the quarter's)
        Index("ix_services_rankings", "status", "agency_id", "level", "health"),
        Index("ix_services_rankings_since", "status", "created_at", "agency_id", "level"),
        # one service per address and agency, retired ones included (restoring never makes a duplicate)
        Index("uq_services_agency_url_key", "agency_id", "url_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    name_lower: Mapped[str] = mapped_column(String(500), default="")
    name_folded: Mapped[str] = mapped_column(String(500), default="", index=True)
    field: Mapped[str | None] = mapped_column(String(255), index=True)
    level: Mapped[int]
    url: Mapped[str] = mapped_column(String(2000))
    url_key: Mapped[str] = mapped_column(String(2000), default=_key_of_inserted_url)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    is_sample: Mapped[bool] = mapped_column(default=False)
    health: Mapped[str] = mapped_column(String(20), default="unknown")
    health_since: Mapped[datetime | None]
    health_reason: Mapped[str | None] = mapped_column(String(40))
    last_checked_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()
    procedure: Mapped[Procedure | None] = relationship()

    @validates("name")
    def _derive_search_forms(self, key: str, value: str) -> str:
        self.name_lower = lower_nfc(value)
        self.name_folded = fold(value)
        return value

    @validates("url")
    def _derive_url_key(self, key: str, value: str) -> str:
        self.url_key = url_key(value)
        return value

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def __repr__(self) -> str:
        return f"<Service {self.id} {self.name[:30]!r}>"



install_search(Service.__table__)
