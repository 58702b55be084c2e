"""Configuration classes; every setting can come from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name}={value!r} is not a whole number") from exc
def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise RuntimeError(f"{name}={value!r} is not a number") from exc


def _default_database_url() -> str:
    return f"sqlite:///{BASE_DIR / 'instance' / 'portal.db'}"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
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
    PORTAL_CONTACT_URL = os.environ.get("PORTAL_CONTACT_URL", "http://127.0.0.1:5000/about")
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 2000
    PORTAL_PAGE_CACHE_SECONDS = int(os.environ.get("PORTAL_PAGE_CACHE_SECONDS", "30"))
    # Monitoring (availability sweeps, roll-ups, retention)
    PORTAL_CHECK_RETENTION_DAYS = _int("PORTAL_CHECK_RETENTION_DAYS", 30)
    PORTAL_RECHECK_MINUTES = _int("PORTAL_RECHECK_MINUTES", 2)
    PORTAL_CHECK_INTERVAL_MINUTES = _int("PORTAL_CHECK_INTERVAL_MINUTES", 60)
    PORTAL_CHECK_JITTER = float(os.environ.get("PORTAL_CHECK_JITTER", "0.1"))
    PORTAL_SWEEP_BATCH = _int("PORTAL_SWEEP_BATCH", 200)
    PORTAL_SWEEP_LEASE_MINUTES = _int("PORTAL_SWEEP_LEASE_MINUTES", 15)
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
    # Accounts and sign-in
    PORTAL_LOGIN_MAX_FAILURES = _int("PORTAL_LOGIN_MAX_FAILURES", 5)
    PORTAL_LOGIN_LOCK_MINUTES = _int("PORTAL_LOGIN_LOCK_MINUTES", 15)
    PORTAL_LOGIN_IP_MAX_FAILURES = _int("PORTAL_LOGIN_IP_MAX_FAILURES", 20)
    PORTAL_LOGIN_IP_WINDOW_MINUTES = _int("PORTAL_LOGIN_IP_WINDOW_MINUTES", 15)
    PORTAL_PASSWORD_MIN_LENGTH = _int("PORTAL_PASSWORD_MIN_LENGTH", 10)
    PORTAL_SESSION_HOURS = _int("PORTAL_SESSION_HOURS", 12)
    # Bulk imports: uploaded files wait here between the preview and the confirmation
    PORTAL_IMPORT_DIR = os.environ.get("PORTAL_IMPORT_DIR", "")
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


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def validate(cls) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production (PORTAL_ENV=production)")


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
        raise RuntimeError(f"Unknown PORTAL_ENV {name!r}; expected one of {sorted(CONFIGS)}")
    if cls is ProductionConfig:
        ProductionConfig.validate()
    return cls
