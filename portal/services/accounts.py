"""Portal accounts: creating users, signing in with throttling, passwords, enabling and disabling.

Every change and every failed or throttled sign-in is written to the audit log. Sign-in never tells
whether an address has an account: unknown addresses, wrong passwords and disabled accounts get the
same answer, unknown addresses are throttled like real ones, and they cost the same password check.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models import ROLES, Agency, AuditLog, User, utcnow
from portal.services import audit

USER_AUDIT_FIELDS = ("email", "role", "agency_id", "is_enabled", "locked_until")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = "common_passwords.txt"


class AccountError(Exception):
    """A change the rules refuse; `errors` maps a field (or "") to a Vietnamese message."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures lock an account (for how long) and how many from one address are refused."""

    max_failures: int = 5
    lock_minutes: int = 15
    ip_max_failures: int = 20
    ip_window_minutes: int = 15

    @classmethod
    def from_config(cls, config: Mapping) -> LoginPolicy:
        return cls(
            max_failures=config.get("PORTAL_LOGIN_MAX_FAILURES", cls.max_failures),
            lock_minutes=config.get("PORTAL_LOGIN_LOCK_MINUTES", cls.lock_minutes),
            ip_max_failures=config.get("PORTAL_LOGIN_IP_MAX_FAILURES", cls.ip_max_failures),
            ip_window_minutes=config.get("PORTAL_LOGIN_IP_WINDOW_MINUTES", cls.ip_window_minutes),
        )


@dataclass(frozen=True)
class LoginResult:
    outcome: Literal["ok", "invalid", "throttled"]
    user: User | None = None


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()[:255]


def get_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def password_problem(password: str, *, email: str = "", min_length: int = 10) -> str | None:
    """A Vietnamese message when the password is too weak to accept, else None."""
    if len(password) < min_length:
        return f"Mật khẩu phải có ít nhất {min_length} ký tự."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Mật khẩu dài quá {MAX_PASSWORD_LENGTH} ký tự."
    if password.strip().lower() == normalise_email(email):
        return "Mật khẩu không được trùng với địa chỉ thư điện tử."
    if len(set(password)) < 4:
        return "Mật khẩu quá đơn giản."
    if password.strip().lower() in common_passwords():
        return "Mật khẩu này quá phổ biến (có trong danh sách mật khẩu hay bị dò); hãy chọn mật khẩu khác."
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list shipped in portal/data (its source is named in the file's header)."""
    text = (Path(__file__).resolve().parent.parent / "data" / COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def session_token(user: User) -> str:
    """A short digest kept in the session and checked on every request: a new password, or a new session
    version (logout, disabling, "sign out everywhere"), ends every older session of the user."""
    return hashlib.sha256(f"{user.id}:{user.session_version or 0}:{user.password_hash}".encode()).hexdigest()[:24]


def end_sessions(session: Session, user: User, *, by: User | None = None, ip: str | None = None,
                 action: str | None = "user.sessions_ended") -> None:
    """End every session of the user on the server side (their cookies stop working), audited unless
    `action` is None (the user's own logout), and committed."""
    user.session_version = (user.session_version or 0) + 1
    if action is not None:
        audit.record(session, action=action, entity_type="user", entity_id=user.id, user=by,
                     agency_id=user.agency_id, before=None, after={"session_version": user.session_version}, ip=ip)
    session.commit()


def _user_snapshot(user: User) -> dict:
    return audit.snapshot(user, USER_AUDIT_FIELDS)


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str,
    agency: Agency | None = None,
    by: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
    min_length: int = 10,
) -> User:
    """Create an account, audited; AccountError (by field) when the address, role, agency or password is refused."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(email):
        errors["email"] = "Địa chỉ thư điện tử không hợp lệ."
    elif get_by_email(session, email) is not None:
        errors["email"] = "Đã có tài khoản với địa chỉ này."
    if role not in ROLES:
        errors["role"] = "Vai trò phải là admin hoặc officer."
    elif role == "officer" and agency is None:
        errors["agency"] = "Cán bộ phải thuộc một cơ quan."
    elif role == "admin" and agency is not None:
        errors["agency"] = "Quản trị viên không gắn với cơ quan nào."
    problem = password_problem(password, email=email, min_length=min_length)
    if problem:
        errors["password"] = problem
    if errors:
        raise AccountError("invalid account", errors)
    user = User(email=email, role=role, agency_id=agency.id if agency else None, is_enabled=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    audit.record(session, action="user.create", entity_type="user", entity_id=user.id, user=by, actor=actor,
                 agency_id=user.agency_id, before=None, after=_user_snapshot(user), ip=ip)
    session.commit()
    return user


def set_enabled(session: Session, user: User, enabled: bool, *, by: User | None = None,
                ip: str | None = None) -> None:
    """Disable or re-enable an account, audited; enabling also lifts a sign-in lock."""
    if by is not None and by.id == user.id and not enabled:
        raise AccountError("self", {"": "Không thể tự khóa tài khoản của mình."})
    before = _user_snapshot(user)
    user.is_enabled = enabled
    if enabled:
        user.failed_logins, user.locked_until = 0, None
    else:
        user.session_version = (user.session_version or 0) + 1
    audit.record(session, action="user.enable" if enabled else "user.disable", entity_type="user",
                 entity_id=user.id, user=by, agency_id=user.agency_id, before=before,
                 after=_user_snapshot(user), ip=ip)
    session.commit()


def change_password(session: Session, user: User, *, current: str, new: str, ip: str | None = None,
                    min_length: int = 10) -> None:
    """Change one's own password after checking the current one, audited (without any secret)."""
    if not user.check_password(current):
        raise AccountError("wrong password", {"current_password": "Mật khẩu hiện tại không đúng."})
    problem = password_problem(new, email=user.email, min_length=min_length)
    if problem is None and user.check_password(new):
        problem = "Mật khẩu mới phải khác mật khẩu hiện tại."
    if problem:
        raise AccountError("weak password", {"new_password": problem})
    user.set_password(new)
    audit.record(session, action="user.password", entity_type="user", entity_id=user.id, user=user,
                 agency_id=user.agency_id, before={"password": "(cũ)"}, after={"password": "(đã đổi)"}, ip=ip)
    session.commit()


@cache
def _dummy_hash() -> str:
    return generate_password_hash("không có tài khoản này", method="scrypt")


def _recent_failures(session: Session, since: datetime, *, ip: str | None = None, actor: str | None = None) -> int:
    stmt = select(func.count(AuditLog.id)).where(AuditLog.action == "login.failed", AuditLog.at >= since)
    if ip is not None:
        stmt = stmt.where(AuditLog.ip == ip)
    if actor is not None:
        stmt = stmt.where(AuditLog.actor == actor)
    return session.execute(stmt).scalar_one()


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    policy: LoginPolicy = LoginPolicy(),  # noqa: B008 - frozen dataclass, safe as a default
    now: datetime | None = None,
) -> LoginResult:
    """Check a sign-in attempt, apply the throttles, audit the outcome, and commit.

    "throttled" when the client address has too many recent failures or the account is locked
    (after `max_failures` failures in a row, for `lock_minutes`); "invalid" for a wrong password,
    an unknown address or a disabled account alike; "ok" with the user otherwise.
    """
    now = now or utcnow()
    email = normalise_email(email)
    user = get_by_email(session, email)
    agency_id = user.agency_id if user is not None else None

    def log(action: str, note: str | None = None) -> None:
        after = {"failed_logins": user.failed_logins, "locked_until": user.locked_until} if user else None
        audit.record(session, action=action, entity_type="user", entity_id=user.id if user else None, user=user,
                     actor=email or "(trống)", agency_id=agency_id, before=None, after=after, ip=ip, note=note)
        session.commit()

    window_start = now - timedelta(minutes=policy.ip_window_minutes)
    if ip and _recent_failures(session, window_start, ip=ip) >= policy.ip_max_failures:
        log("login.throttled", "địa chỉ IP")
        return LoginResult("throttled")
    if user is None:
        lock_start = now - timedelta(minutes=policy.lock_minutes)
        if _recent_failures(session, lock_start, actor=email) >= policy.max_failures:
            log("login.throttled", "tài khoản")
            return LoginResult("throttled")
        check_password_hash(_dummy_hash(), password)
        log("login.failed")
        return LoginResult("invalid")
    if user.locked_until is not None and user.locked_until > now:
        log("login.throttled", "tài khoản")
        return LoginResult("throttled")
    if not user.check_password(password) or not user.is_enabled:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= policy.max_failures:
            user.failed_logins, user.locked_until = 0, now + timedelta(minutes=policy.lock_minutes)
        log("login.failed", None if user.is_enabled else "tài khoản đã bị khóa")
        return LoginResult("invalid")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    log("login.success")
    return LoginResult("ok", user)
