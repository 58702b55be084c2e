"""Configuration classes; every setting can come from the environment."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any, TypeVar

BASE_DIR = Path(__file__).resolve().parent
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_N = TypeVar("_N", int, float)


class ConfigError(RuntimeError):
    """A setting that cannot be used; the message is one line naming it."""


# Problems found while reading the environment; config_from_env() raises the first ones as one ConfigError.
ERRORS: list[str] = []


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value not in _TRUE | _FALSE:
        ERRORS.append(f"{name}={value!r} is not on or off (1/0, true/false, yes/no, on/off)")
        return default
    return value in _TRUE


def _number(name: str, default: _N, kind: type[_N], minimum: float | None, maximum: float | None) -> _N:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        ERRORS.append(f"{name}={value!r} is not {'a whole number' if kind is int else 'a number'}")
        return default
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        ERRORS.append(f"{name}={value!r} must be {bounds}")
        return default
    return number


def _int(name: str, default: Any, minimum: int | None = 0, maximum: int | None = None) -> Any:
    return _number(name, default, int, minimum, maximum)


def _float(name: str, default: Any, minimum: float | None = 0, maximum: float | None = None) -> Any:
    return _number(name, default, float, minimum, maximum)


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        ERRORS.append(f"{name}={value!r} is not one of {', '.join(choices)}")
        return default
    return value


def _instance_dir() -> Path:
    """`instance/` beside the code in a source checkout; sys.prefix/var/portal-instance when installed."""
    configured = os.environ.get("PORTAL_INSTANCE_DIR", "").strip()
    if configured:
        return Path(configured).resolve()
    if (BASE_DIR / "pyproject.toml").exists():
        return BASE_DIR / "instance"
    return Path(sys.prefix) / "var" / "portal-instance"


INSTANCE_DIR = _instance_dir()


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'portal.db'}"


def normalise_database_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as hosting services write them) mean psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _database_url() -> str:
    url = normalise_database_url((os.environ.get("DATABASE_URL") or "").strip() or _default_database_url())
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        ERRORS.append("DATABASE_URL is not a database URL (sqlite:///PATH or postgresql://USER@HOST:PORT/NAME)")
    return url


def development_secret(instance_dir: Path) -> str:
    """The development SECRET_KEY: made once under instance/ and read by every worker and process."""
    path = instance_dir / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    instance_dir.mkdir(parents=True, exist_ok=True)
    draft = instance_dir / f".secret_key.{os.getpid()}"
    draft.write_text(secrets.token_hex(32), encoding="ascii")
    draft.chmod(0o600)
    try:
        os.link(draft, path)  # atomic: when two processes race, the first file wins and both read it
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="ascii").strip()


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # development: instance/secret_key (load_config)
    SQLALCHEMY_DATABASE_URI = _database_url()
    PORTAL_INSTANCE_DIR = str(INSTANCE_DIR)
    PORT = _int("PORT", 5000, 1, 65535)
    HOST = os.environ.get("HOST", "127.0.0.1")
    WEB_CONCURRENCY = _int("WEB_CONCURRENCY", 2, 1)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SEARCH_PER_PAGE = 20
    SEARCH_MAX_PER_PAGE = 100
    PORTAL_ALLOW_PRIVATE_ADDRESSES = _flag("PORTAL_ALLOW_PRIVATE_ADDRESSES")
    PORTAL_FIGURES_MARGIN = _float("PORTAL_FIGURES_MARGIN", 0.2)
    PORTAL_CONTACT_URL = os.environ.get("PORTAL_CONTACT_URL", "")
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 2000
    PORTAL_PAGE_CACHE_SECONDS = _int("PORTAL_PAGE_CACHE_SECONDS", 30)
    # Availability checker (None: the checker's own default)
    PORTAL_CHECK_CONCURRENCY = _int("PORTAL_CHECK_CONCURRENCY", None, 1)
    PORTAL_CHECK_PER_HOST = _int("PORTAL_CHECK_PER_HOST", None, 1)
    PORTAL_CHECK_CONNECT_TIMEOUT = _float("PORTAL_CHECK_CONNECT_TIMEOUT", None, 0.001)
    PORTAL_CHECK_READ_TIMEOUT = _float("PORTAL_CHECK_READ_TIMEOUT", None, 0.001)
    PORTAL_CHECK_DEADLINE = _float("PORTAL_CHECK_DEADLINE", None, 0.001)
    PORTAL_CHECK_SLOW_MS = _int("PORTAL_CHECK_SLOW_MS", None, 1)
    PORTAL_CHECK_PROCESSES = _int("PORTAL_CHECK_PROCESSES", None, 1)
    PORTAL_CHECK_CLIENT = _choice("PORTAL_CHECK_CLIENT", "lean", ("lean", "aiohttp"))
    # Operations
    PORTAL_MONITOR = _choice("PORTAL_MONITOR", "on", ("on", "off"))
    PORTAL_LOG_FORMAT = _choice("PORTAL_LOG_FORMAT", "plain", ("plain", "json"))
    PORTAL_READY_SWEEP_MINUTES = _int("PORTAL_READY_SWEEP_MINUTES", 15, 1)
    PORTAL_METRICS_WINDOW_MINUTES = _int("PORTAL_METRICS_WINDOW_MINUTES", 60, 1)
    # Uploads and open data
    PORTAL_UPLOAD_DIR = os.environ.get("PORTAL_UPLOAD_DIR", "")
    PORTAL_OPEN_DATA_DIR = os.environ.get("PORTAL_OPEN_DATA_DIR", "")
    PORTAL_OPEN_DATA_XLSX_SECONDS = _int("PORTAL_OPEN_DATA_XLSX_SECONDS", 900, 1)
    # Public pages
    PORTAL_COMPRESS = _flag("PORTAL_COMPRESS", False)
    # Evidence: below these an availability figure is "not enough data", not a percentage
    PORTAL_EVIDENCE_MIN_CHECKS = _int("PORTAL_EVIDENCE_MIN_CHECKS", 24)
    PORTAL_EVIDENCE_MIN_DAYS = _int("PORTAL_EVIDENCE_MIN_DAYS", 3)
    # Monitoring (availability sweeps, roll-ups, retention)
    PORTAL_CHECK_RETENTION_DAYS = _int("PORTAL_CHECK_RETENTION_DAYS", 30)
    PORTAL_RECHECK_MINUTES = _int("PORTAL_RECHECK_MINUTES", 2)
    PORTAL_CHECK_INTERVAL_MINUTES = _int("PORTAL_CHECK_INTERVAL_MINUTES", 60)
    PORTAL_CHECK_JITTER = _float("PORTAL_CHECK_JITTER", 0.1, 0, 1)
    PORTAL_SWEEP_BATCH = _int("PORTAL_SWEEP_BATCH", 200)
    PORTAL_SWEEP_LEASE_MINUTES = _int("PORTAL_SWEEP_LEASE_MINUTES", 15)
    PORTAL_SWEEP_LOCK_SECONDS = _int("PORTAL_SWEEP_LOCK_SECONDS", 60)  # renewed by a heartbeat while the sweep lives
    PORTAL_MONITOR_CANARIES = os.environ.get("PORTAL_MONITOR_CANARIES", "")
    PORTAL_MONITOR_FAULT_SHARE = _float("PORTAL_MONITOR_FAULT_SHARE", 0.8)
    PORTAL_MONITOR_FAULT_MIN_HOSTS = _int("PORTAL_MONITOR_FAULT_MIN_HOSTS", 10)
    # Alerts (e-mail and webhook)
    PORTAL_SMTP_HOST = os.environ.get("PORTAL_SMTP_HOST", "")
    PORTAL_SMTP_PORT = _int("PORTAL_SMTP_PORT", 25)
    PORTAL_SMTP_USER = os.environ.get("PORTAL_SMTP_USER", "")
    PORTAL_SMTP_PASSWORD = os.environ.get("PORTAL_SMTP_PASSWORD", "")
    PORTAL_SMTP_STARTTLS = _flag("PORTAL_SMTP_STARTTLS")
    PORTAL_MAIL_FROM = os.environ.get("PORTAL_MAIL_FROM", "cong-dich-vu-cong@localhost")
    PORTAL_ALERT_WEBHOOK_URL = os.environ.get("PORTAL_ALERT_WEBHOOK_URL", "")
    PORTAL_ALERT_STORM_THRESHOLD = _int("PORTAL_ALERT_STORM_THRESHOLD", 10)
    PORTAL_PUBLIC_URL = os.environ.get("PORTAL_PUBLIC_URL", "http://127.0.0.1:5000")
    # Citizens' reports about services (abuse control, incident threshold, privacy)
    PORTAL_FEEDBACK_CLIENT_LIMIT = _int("PORTAL_FEEDBACK_CLIENT_LIMIT", 5)
    PORTAL_FEEDBACK_SERVICE_LIMIT = _int("PORTAL_FEEDBACK_SERVICE_LIMIT", 30)
    PORTAL_FEEDBACK_MIN_SECONDS = _int("PORTAL_FEEDBACK_MIN_SECONDS", 3)
    PORTAL_FEEDBACK_FORM_MAX_HOURS = _int("PORTAL_FEEDBACK_FORM_MAX_HOURS", 24)
    PORTAL_FEEDBACK_MAX_BYTES = _int("PORTAL_FEEDBACK_MAX_BYTES", 16384)
    PORTAL_FEEDBACK_INCIDENT_THRESHOLD = _int("PORTAL_FEEDBACK_INCIDENT_THRESHOLD", 3)
    PORTAL_FEEDBACK_INCIDENT_WINDOW_MINUTES = _int("PORTAL_FEEDBACK_INCIDENT_WINDOW_MINUTES", 60)
    PORTAL_FEEDBACK_CONTACT_RETENTION_DAYS = _int("PORTAL_FEEDBACK_CONTACT_RETENTION_DAYS", 90)
    # Accounts and sign-in
    PORTAL_LOGIN_MAX_FAILURES = _int("PORTAL_LOGIN_MAX_FAILURES", 5)
    PORTAL_LOGIN_LOCK_MINUTES = _int("PORTAL_LOGIN_LOCK_MINUTES", 15)
    PORTAL_LOGIN_IP_MAX_FAILURES = _int("PORTAL_LOGIN_IP_MAX_FAILURES", 20)
    PORTAL_LOGIN_IP_WINDOW_MINUTES = _int("PORTAL_LOGIN_IP_WINDOW_MINUTES", 15)
    PORTAL_PASSWORD_MIN_LENGTH = _int("PORTAL_PASSWORD_MIN_LENGTH", 10)
    PORTAL_SESSION_HOURS = _int("PORTAL_SESSION_HOURS", 12)
    # reverse proxies in front of the portal whose X-Forwarded-For/-Proto are trusted (0: none)
    PORTAL_TRUSTED_PROXIES = _int("PORTAL_TRUSTED_PROXIES", 0)
    PORTAL_HSTS_SECONDS = _int("PORTAL_HSTS_SECONDS", 0)  # Strict-Transport-Security max-age; 0: no header
    # Bulk imports: uploaded files wait here between the preview and the confirmation
    PORTAL_IMPORT_DIR = os.environ.get("PORTAL_IMPORT_DIR", "")
    # Reading an uploaded XLSX (web and CLI): uncompressed XML and characters in all, seconds, and limits
    # checked while streaming (portal/services/spreadsheets.py)
    PORTAL_IMPORT_MEMORY_MB = _int("PORTAL_IMPORT_MEMORY_MB", 32)
    PORTAL_IMPORT_SECONDS = _float("PORTAL_IMPORT_SECONDS", 20.0)
    PORTAL_IMPORT_MAX_RATIO = _int("PORTAL_IMPORT_MAX_RATIO", 100)
    PORTAL_IMPORT_MAX_COLUMNS = _int("PORTAL_IMPORT_MAX_COLUMNS", 200)
    PORTAL_IMPORT_MAX_CELL_CHARS = _int("PORTAL_IMPORT_MAX_CELL_CHARS", 32767)
    PORTAL_IMPORT_MAX_SHARED_STRINGS = _int("PORTAL_IMPORT_MAX_SHARED_STRINGS", 200_000)
    TESTING = False


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - fixed key for reproducible tests only
    WTF_CSRF_ENABLED = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PORTAL_ALLOW_PRIVATE_ADDRESSES = True
    PORTAL_PAGE_CACHE_SECONDS = 0
    PORTAL_PUBLIC_URL = "http://localhost"  # the test client's host


class ProductionConfig(Config):
    PORTAL_COMPRESS = _flag("PORTAL_COMPRESS", True)
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    PORTAL_HSTS_SECONDS = _int("PORTAL_HSTS_SECONDS", 365 * 24 * 3600)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def validate(cls) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (PORTAL_ENV=production)")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the config class named by PORTAL_ENV (development by default)."""
    name = os.environ.get("PORTAL_ENV", "development")
    cls = CONFIGS.get(name)
    if cls is None:
        raise ConfigError(f"PORTAL_ENV={name!r} is not one of {', '.join(CONFIGS)}")
    if ERRORS:
        raise ConfigError("; ".join(ERRORS))
    if cls is ProductionConfig:
        ProductionConfig.validate()
    return cls
