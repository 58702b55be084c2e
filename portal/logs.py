"""One log format for the application, the scheduler and gunicorn: plain lines, or JSON (PORTAL_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'  # gunicorn's atoms; %(M)s: request duration in ms
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's extra fields, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def dict_config(fmt: str = "plain", level: str = "INFO") -> dict[str, Any]:
    """logging.config.dictConfig settings: every logger (gunicorn's too) through one stderr handler."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": PLAIN}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"portal": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "portal", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{name: {"level": level, "handlers": [], "propagate": True}
               for name in ("gunicorn.error", "gunicorn.access", "portal", "alembic")},
            "apscheduler": {"level": "WARNING", "handlers": [], "propagate": True},  # not a line per job run
        },
    }


def configure(fmt: str = "plain", level: str = "INFO") -> None:
    logging.config.dictConfig(dict_config(fmt, level))
