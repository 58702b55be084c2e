"""Citizens' reports that a service does not work, the re-checks they ask for, and the incidents they open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.service import Service

FEEDBACK_CATEGORIES = ("not_opening", "submit_error", "sign_in", "wrong_info", "other")
FEEDBACK_STATUSES = ("new", "acknowledged", "resolved", "not_a_problem")
FEEDBACK_OPEN = ("new", "acknowledged")


class FeedbackReport(Base):
    """One citizen's report about one service. The contact is private and erased after the report is closed."""

    __tablename__ = "feedback_reports"
    __table_args__ = (
        CheckConstraint(f"category IN {FEEDBACK_CATEGORIES!r}", name="category"),
        CheckConstraint(f"status IN {FEEDBACK_STATUSES!r}", name="status"),
        Index("ix_feedback_reports_service_created", "service_id", "created_at"),
        Index("ix_feedback_reports_client_created", "client_hash", "created_at"),
        Index("ix_feedback_reports_status_closed", "status", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    description_public: Mapped[bool] = mapped_column(default=False)
    contact: Mapped[str | None] = mapped_column(String(255))
    client_hash: Mapped[str] = mapped_column(String(64))
    repeats: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="new")
    reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    contact_erased_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    service: Mapped[Service] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in FEEDBACK_OPEN


class FeedbackRecheck(Base):
    """The immediate re-check of a service that reports ask for: one row per service, so one at a time."""

    __tablename__ = "feedback_rechecks"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class FeedbackIncident(Base):
    """"Citizens report problems": several reports about a service within the window, whatever the checker says."""

    __tablename__ = "feedback_incidents"
    __table_args__ = (Index("ix_feedback_incidents_service_started", "service_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    reports: Mapped[int] = mapped_column(default=0)
    health_at_start: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))

    service: Mapped[Service] = relationship()
