"""Signs of life of the background processes, read by /readyz and /metrics from any web worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class Heartbeat(Base):
    """The last beat of a process or job (`scheduler`, `sweep`); a sweep also keeps its start, end and count."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    beat_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    checked: Mapped[int | None]
