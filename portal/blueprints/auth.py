"""Signing in and out, and changing one's password."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.blueprints.admin_forms import LoginForm, PasswordForm
from portal.blueprints.figures import _attach
from portal.extensions import db
from portal.models import User
from portal.security import staff_required
from portal.services import accounts

bp = Blueprint("auth", __name__)

KEPT_SESSION_KEYS = ("lang",)


@bp.before_request
def _no_store() -> None:
    g.no_store = True


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: an enabled user whose session is recent and matches their current password."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_enabled or session.get("_auth") != accounts.session_token(user):
        return None
    started = session.get("_auth_at")
    max_age = current_app.config["PORTAL_SESSION_HOURS"] * 3600
    if not isinstance(started, int | float) or not 0 <= time.time() - started <= max_age:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site (never another host, even spelt //host or /\\host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _start_session(user: User) -> None:
    """A fresh session for the signed-in user: nothing from before the sign-in survives but the language."""
    kept = {key: session[key] for key in KEPT_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    login_user(user)
    session["_auth"] = accounts.session_token(user)
    session["_auth_at"] = int(time.time())


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("admin.index"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        policy = accounts.LoginPolicy.from_config(current_app.config)
        result = accounts.authenticate(db.session, email=form.email.data, password=form.password.data,
                                       ip=request.remote_addr, policy=policy)
        if result.outcome == "ok" and result.user is not None:
            _start_session(result.user)
            flash(_("Đã đăng nhập."), "success")
            return redirect(target or url_for("admin.index"))
        if result.outcome == "throttled":
            error = _("Có quá nhiều lần đăng nhập không thành công. Vui lòng thử lại sau %(minutes)s phút.",
                      minutes=policy.lock_minutes)
            status = 429
        else:
            error, status = _("Thư điện tử hoặc mật khẩu không đúng."), 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error, next=target), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(db.session, current_user._get_current_object(), action=None)
    logout_user()
    kept = {key: session[key] for key in KEPT_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    flash(_("Đã đăng xuất."), "success")
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
def change_password():
    form = PasswordForm()
    loose: list[str] = []
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(db.session, user, current=form.current_password.data,
                                     new=form.new_password.data, ip=request.remote_addr,
                                     min_length=current_app.config["PORTAL_PASSWORD_MIN_LENGTH"])
        except accounts.AccountError as exc:
            loose = _attach(form, exc.errors)
        else:
            session["_auth"] = accounts.session_token(user)
            flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác đã hết hiệu lực."), "success")
            return redirect(url_for("admin.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form, loose=loose), status
