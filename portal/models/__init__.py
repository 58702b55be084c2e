"""Data model. Import every model here so Alembic and create_all see the whole metadata."""

from portal.models.agency import AGENCY_KINDS, Agency
from portal.models.agency_rollup import AgencyDailyRollup, install_rollup_triggers
from portal.models.audit import AuditLog
from portal.models.base import Base, utcnow
from portal.models.feedback import (
    FEEDBACK_CATEGORIES,
    FEEDBACK_OPEN,
    FEEDBACK_STATUSES,
    FeedbackIncident,
    FeedbackRecheck,
    FeedbackReport,
)
from portal.models.figures import ApplicationStat, QuarterLock, QuarterlyReport, StatSource
from portal.models.monitoring import (
    ALERT_KINDS,
    AlertEvent,
    Check,
    DailyRollup,
    Incident,
    JobLock,
    MonitorFault,
    SweepRun,
)
from portal.models.operations import Heartbeat
from portal.models.procedure import CatalogueEntry, Procedure
from portal.models.report import INDEX_COLUMNS, ReportFigure
from portal.models.search import install_search
from portal.models.service import HEALTH_STATES, SERVICE_STATUSES, Service
from portal.models.synonym import SearchSynonym
from portal.models.user import ROLES, User

__all__ = [
    "ALERT_KINDS",
    "AlertEvent",
    "JobLock",
    "AGENCY_KINDS",
    "HEALTH_STATES",
    "INDEX_COLUMNS",
    "ROLES",
    "SERVICE_STATUSES",
    "Agency",
    "AgencyDailyRollup",
    "ApplicationStat",
    "AuditLog",
    "Base",
    "CatalogueEntry",
    "Check",
    "DailyRollup",
    "FEEDBACK_CATEGORIES",
    "FEEDBACK_OPEN",
    "FEEDBACK_STATUSES",
    "FeedbackIncident",
    "FeedbackRecheck",
    "FeedbackReport",
    "Heartbeat",
    "Incident",
    "MonitorFault",
    "Procedure",
    "QuarterLock",
    "QuarterlyReport",
    "ReportFigure",
    "SearchSynonym",
    "Service",
    "StatSource",
    "SweepRun",
    "User",
    "install_search",
    "utcnow",
]

install_rollup_triggers(Base.metadata)
