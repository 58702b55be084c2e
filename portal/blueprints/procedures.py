"""Administration of procedures and their catalogues: list and search, create/edit, catalogue upload."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.blueprints.procedures_forms import (
    SCOPE_LABELS,
    ConfirmForm,
    ImportForm,
    MembershipForm,
    NewProcedureForm,
    ProcedureForm,
)
from portal.extensions import db
from portal.models import Procedure
from portal.security import admin_required
from portal.services import procedures as svc
from portal.services.agencies import directory, get_by_code
from portal.services.importing import MAX_IMPORT_BYTES

bp = Blueprint("procedures", __name__, url_prefix="/admin/procedures")

PER_PAGE = 50
_SESSION_KEY = "procedure_import"
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_MAX_AGE = 24 * 3600


def _ip() -> str | None:
    return request.remote_addr


def _attach(form, errors: dict[str, str]) -> list[str]:
    """Put service errors on the form's fields; return those that belong to no field."""
    loose = []
    for key, message in errors.items():
        target = getattr(form, key, None) if key else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            loose.append(message)
    return loose


@bp.get("")
@admin_required
def index():
    q = (request.args.get("q") or "").strip()[:200]
    catalogue = (request.args.get("catalogue") or "").strip() or None
    page_text = request.args.get("page") or "1"
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
    results = svc.search_procedures(db.session, q=q, catalogue=catalogue, page=page, per_page=PER_PAGE)
    params = {k: v for k, v in {"q": q, "catalogue": catalogue}.items() if v}
    return render_template(
        "procedures/index.html", results=results, q=q, catalogue=catalogue, params=params,
        catalogues=svc.catalogues(db.session), scope_labels=SCOPE_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = NewProcedureForm()
    loose: list[str] = []
    if form.validate_on_submit():
        try:
            procedure = svc.save_procedure(db.session, None, code=form.code.data, name=form.name.data,
                                           field=form.field.data, user=current_user, ip=_ip())
        except svc.ProcedureError as exc:
            loose = _attach(form, exc.errors)
        else:
            flash(_("Đã thêm thủ tục %(code)s.", code=procedure.code), "success")
            return redirect(url_for("procedures.edit", procedure_id=procedure.id))
    status = 400 if request.method == "POST" else 200
    return render_template("procedures/form.html", form=form, procedure=None, loose=loose), status


def _agency_choices() -> list[SelectChoice]:
    agencies = directory(db.session)
    return [SelectChoice("", _("— mọi cơ quan trong phạm vi —"))] + [SelectChoice(a.code, a.name) for a in agencies]


@bp.route("/<int:procedure_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(procedure_id: int):
    procedure = db.session.get(Procedure, procedure_id) or abort(404)
    form = ProcedureForm(obj=procedure if request.method == "GET" else None)
    membership = MembershipForm(formdata=None)
    membership.agency.choices = _agency_choices()
    loose: list[str] = []
    if form.validate_on_submit():
        try:
            svc.save_procedure(db.session, procedure, code=procedure.code, name=form.name.data,
                               field=form.field.data, user=current_user, ip=_ip())
        except svc.ProcedureError as exc:
            loose = _attach(form, exc.errors)
        else:
            flash(_("Đã lưu thủ tục %(code)s.", code=procedure.code), "success")
            return redirect(url_for("procedures.edit", procedure_id=procedure.id))
    status = 400 if request.method == "POST" else 200
    return render_template("procedures/form.html", form=form, procedure=procedure, loose=loose,
                           membership=membership, membership_loose=[], scope_labels=SCOPE_LABELS), status


@bp.post("/<int:procedure_id>/memberships")
@admin_required
def membership(procedure_id: int):
    procedure = db.session.get(Procedure, procedure_id) or abort(404)
    form = MembershipForm()
    form.agency.choices = _agency_choices()
    loose: list[str] = []
    if form.validate_on_submit():
        agency = get_by_code(db.session, form.agency.data) if form.agency.data else None
        try:
            svc.set_membership(db.session, procedure, catalogue=form.catalogue.data.strip(), scope=form.scope.data,
                               required_level=int(form.required_level.data), agency=agency,
                               user=current_user, ip=_ip())
        except svc.ProcedureError as exc:
            loose = _attach(form, exc.errors)
        else:
            flash(_("Đã lưu thủ tục %(code)s vào danh mục %(catalogue)s.", code=procedure.code,
                    catalogue=form.catalogue.data.strip()), "success")
            return redirect(url_for("procedures.edit", procedure_id=procedure.id))
    details = ProcedureForm(obj=procedure, formdata=None)
    return render_template("procedures/form.html", form=details, procedure=procedure, loose=[],
                           membership=form, membership_loose=loose, scope_labels=SCOPE_LABELS), 400


# ---------------------------------------------------------------- catalogue upload


def _upload_dir() -> Path:
    folder = Path(current_app.config.get("PORTAL_UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    folder = folder / "procedures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    cutoff = time.time() - _UPLOAD_MAX_AGE
    for path in folder.glob("*.upload"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def upload():
    form = ImportForm()
    plan = None
    confirm = None
    if form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        filename = Path(form.file.data.filename or "catalogue.csv").name[:200]
        catalogue = form.catalogue.data.strip()
        scope = form.scope.data or None
        plan = svc.plan_import(db.session, data, filename, catalogue=catalogue, default_scope=scope)
        if plan.ok:
            folder = _upload_dir()
            _forget_old_uploads(folder)
            token = secrets.token_hex(16)
            (folder / f"{token}.upload").write_bytes(data)
            session[_SESSION_KEY] = {"token": token, "filename": filename, "catalogue": catalogue, "scope": scope}
            confirm = ConfirmForm(formdata=None, token=token)
    status = 400 if request.method == "POST" and (form.errors or (plan is not None and not plan.ok)) else 200
    return render_template("procedures/import.html", form=form, plan=plan, confirm=confirm,
                           scope_labels=SCOPE_LABELS), status


@bp.post("/import/confirm")
@admin_required
def confirm_upload():
    form = ConfirmForm()
    pending = session.get(_SESSION_KEY) or {}
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    path = _upload_dir() / f"{token}.upload"
    claimed = path.with_suffix(f".{secrets.token_hex(8)}.claimed")
    try:  # an atomic rename: of two confirmations at once (a double click) only one imports
        if not _TOKEN_RE.match(token) or pending.get("token") != token:
            raise FileNotFoundError(token)
        path.rename(claimed)
    except FileNotFoundError:
        flash(_("Không còn tệp đang chờ nhập (đã nhập hoặc đã quá hạn). Hãy tải tệp lên lại."), "error")
        return redirect(url_for("procedures.upload"))
    data = claimed.read_bytes()
    claimed.unlink(missing_ok=True)
    session.pop(_SESSION_KEY, None)
    plan = svc.import_catalogue(db.session, data, pending["filename"], catalogue=pending["catalogue"],
                                default_scope=pending.get("scope"), user=current_user, ip=_ip())
    if not plan.ok:
        flash(_("Tệp không còn hợp lệ với dữ liệu hiện tại; không có gì được ghi. Hãy tải tệp lên lại."), "error")
        return redirect(url_for("procedures.upload"))
    flash(_("Đã nhập danh mục %(catalogue)s: thêm %(added)s, cập nhật %(updated)s, không đổi %(unchanged)s.",
            catalogue=plan.catalogue, added=plan.added, updated=plan.updated, unchanged=plan.unchanged), "success")
    return redirect(url_for("procedures.index", catalogue=plan.catalogue))
