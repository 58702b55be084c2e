"""Administration: services (officers: their own agency only), bulk imports, users, agencies, audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from portal import caching, changes
from portal.blueprints.admin_forms import (
    AgencyForm,
    AuditFilterForm,
    ConfirmImportForm,
    ImportForm,
    ServiceForm,
    UserForm,
    agency_choices,
)
from portal.blueprints.confirm import ask_first
from portal.blueprints.figures import _attach
from portal.blueprints.figures_forms import ActionForm
from portal.extensions import db
from portal.models import AGENCY_KINDS, Agency, AuditLog, Service, User
from portal.security import (
    admin_required,
    can_manage_agency,
    deny,
    deny_posted_agency,
    scope_agency_ids,
    staff_required,
)
from portal.services import accounts, audit, bulk_import, exports, importing, memo, registry
from portal.services import agencies as agency_service
from portal.services.periods import VIETNAM
from portal.text import place_sort_key

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50
PREVIEW_ROWS = 300


@bp.before_request
def _no_store() -> None:
    g.no_store = True


def _ip() -> str | None:
    return request.remote_addr


def _me() -> User:
    return current_user._get_current_object()


def _scope() -> list[int] | None:
    return scope_agency_ids(db.session, current_user)


def _allow_private() -> bool:
    return bool(current_app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"])


def _changed() -> None:
    """Public pages and memoised lists show the change at once in this process."""
    caching.clear()
    memo.clear_all()


def _action_or_400() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _agencies(scope: list[int] | None) -> list[Agency]:
    """Agencies one may register services for: every current one (admin), the officer's own otherwise."""
    if scope is None:
        return [a for a in db.session.execute(select(Agency)).scalars() if a.is_current()]
    return list(db.session.execute(select(Agency).where(Agency.id.in_(scope))).scalars())


def _directory_order(agencies: list[Agency]) -> list[Agency]:
    def key(agency: Agency) -> tuple:
        top = agency.top()
        return (AGENCY_KINDS.index(top.kind), place_sort_key(top.name), agency.parent_id is not None,
                place_sort_key(agency.name))

    return sorted(agencies, key=key)


# ---------------------------------------------------------------- home


@bp.get("")
@staff_required
def index():
    scope = _scope()
    return render_template("admin/index.html", counts=registry.service_counts(db.session, scope),
                           agency=current_user.agency)


# ---------------------------------------------------------------- services


def _service_filters() -> tuple[dict[str, str], list[int] | None]:
    filters = {name: (request.args.get(name) or "").strip()[:200] for name in ("q", "agency", "status")}
    agency_ids = None
    if filters["agency"]:
        agency = agency_service.get_by_code(db.session, filters["agency"])
        agency_ids = agency_service.subunit_ids(db.session, agency) if agency is not None else []
    return {k: v for k, v in filters.items() if v}, agency_ids


@bp.get("/services")
@staff_required
def services():
    scope = _scope()
    filters, agency_ids = _service_filters()
    stmt = registry.services_query(scope=scope, agency_ids=agency_ids, status=filters.get("status"),
                                   q=filters.get("q"))
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("admin/services.html", page=page, filters=filters, action=ActionForm(),
                           agencies=agency_choices(_agencies(scope), empty=_("Tất cả cơ quan")))


@bp.get("/services.<any(csv, xlsx):fmt>")
@staff_required
def services_export(fmt: str):
    scope = _scope()
    filters, agency_ids = _service_filters()
    stmt = registry.services_query(scope=scope, agency_ids=agency_ids, status=filters.get("status"),
                                   q=filters.get("q"))
    listed = list(db.session.execute(stmt).unique().scalars())
    counts = registry.imported_counts(db.session, [s.id for s in listed])
    rows = []
    for s in listed:
        stat = counts.get(s.id)
        rows.append([s.name, s.procedure.code if s.procedure else None, s.field, s.level,
                     stat.received_online if stat else None, stat.received_total if stat else None, s.url,
                     s.legal_basis, s.agency.code])
    if fmt == "csv":
        body: bytes = exports.to_csv(importing.TEMPLATE_HEADERS, rows).encode("utf-8")
        mimetype = "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(importing.TEMPLATE_HEADERS, rows, sheet_title="Dịch vụ công")
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="dich-vu-cong.{fmt}"'})


def _service_or_deny(service_id: int) -> Service:
    service = db.session.get(Service, service_id) or abort(404)
    if not can_manage_agency(db.session, current_user, service.agency_id):
        deny("service.denied", "service", service.id, agency_id=service.agency_id)
    return service


@bp.route("/services/new", methods=["GET", "POST"])
@staff_required
def service_new():
    return _service_form(None)


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@staff_required
def service_edit(service_id: int):
    return _service_form(_service_or_deny(service_id))


def _service_form(service: Service | None):
    scope = _scope()
    agencies = _agencies(scope)
    if service is not None and service.agency not in agencies:
        agencies.append(service.agency)
    deny_posted_agency(db.session, scope, "service.denied")
    form = ServiceForm(obj=service)
    form.set_choices(agencies)
    if request.method == "GET":
        if service is not None:
            form.agency.data, form.level.data = service.agency.code, service.level
            form.procedure_code.data = service.procedure.code if service.procedure else ""
        elif current_user.agency is not None:
            form.agency.data = current_user.agency.code
    loose: list[str] = []
    by_code = {a.code: a for a in agencies}
    valid = form.validate_on_submit()
    if request.method == "POST" and not valid and form.agency.data in by_code:
        values = registry.ServiceValues.clean(
            by_code[form.agency.data], name=form.name.data or "", level=form.level.data or 0,
            url=form.url.data or "", procedure_code=form.procedure_code.data, field=form.field.data,
            legal_basis=form.legal_basis.data,
        )
        more = registry.service_errors(db.session, values, service=service, scope=scope,
                                       allow_private=_allow_private())
        loose = _attach(form, {k: v for k, v in more.items() if k in form and not form[k].errors})
    if valid:
        values = registry.ServiceValues.clean(
            by_code[form.agency.data], name=form.name.data, level=form.level.data, url=form.url.data,
            procedure_code=form.procedure_code.data, field=form.field.data, legal_basis=form.legal_basis.data,
        )
        try:
            saved = registry.save_service(db.session, service, values, user=_me(), ip=_ip(), scope=scope,
                                          allow_private=_allow_private())
        except registry.RegistryError as exc:
            loose = _attach(form, exc.errors)
        else:
            _changed()
            flash(_("Đã lưu dịch vụ #%(id)s “%(name)s”.", id=saved.id, name=saved.name), "success")
            return redirect(url_for("admin.services"))
    record = (registry.staff_record(db.session, service) if service is not None
              else {"history": [], "imported": None, "incident": None})
    status = 400 if request.method == "POST" else 200
    return render_template("admin/service_form.html", form=form, service=service, loose=loose,
                           action=ActionForm(), changes=audit_changes, **record), status


@bp.post("/services/<int:service_id>/retire")
@staff_required
def service_retire(service_id: int):
    return _set_retired(service_id, True)


@bp.post("/services/<int:service_id>/restore")
@staff_required
def service_restore(service_id: int):
    return _set_retired(service_id, False)


def _set_retired(service_id: int, retired: bool):
    _action_or_400()
    service = _service_or_deny(service_id)
    if retired and service.status != "retired" and (page := ask_first(
        title=_("Ngừng dịch vụ"), label=_("Ngừng dịch vụ"),
        question=_("Ngừng cung cấp dịch vụ “%(name)s”?", name=service.name),
        details=[_("Dịch vụ rời danh sách công khai và kết quả tìm kiếm, không còn được kiểm tra; trang và lịch "
                   "sử của nó được giữ. Có thể khôi phục bất cứ lúc nào.")],
        back=url_for("admin.service_edit", service_id=service.id),
    )):
        return page
    if registry.set_retired(db.session, service, retired, user=_me(), ip=_ip()):
        _changed()
    if retired:
        flash(_("Đã ngừng dịch vụ “%(name)s”; lịch sử vẫn được giữ.", name=service.name), "success")
    else:
        flash(_("Đã khôi phục dịch vụ “%(name)s”.", name=service.name), "success")
    return redirect(url_for("admin.services", status="retired" if retired else None))


# ---------------------------------------------------------------- imports


def _pending() -> bulk_import.PendingUploads:
    directory = current_app.config.get("PORTAL_IMPORT_DIR") or Path(current_app.instance_path) / "imports"
    return bulk_import.PendingUploads(Path(directory))


def _import_form(scope: list[int] | None, *, from_request: bool = True) -> ImportForm:
    form = ImportForm() if from_request else ImportForm(formdata=None)
    empty = _("Theo cột “Mã cơ quan” của tệp") if scope is None else None
    form.agency.choices = agency_choices(_agencies(scope), empty=empty)
    if request.method == "GET" and current_user.agency is not None:
        form.agency.data = current_user.agency.code
    return form


def _too_large_message() -> str:
    return _("Tệp quá lớn: giới hạn là %(mb)s MB. Hãy chia tệp thành nhiều phần.",
             mb=importing.MAX_IMPORT_BYTES // (1024 * 1024))


def _render_imports(form: ImportForm, *, outcome=None, confirm=None, status: int = 200):
    agencies = {a.code: a.name for a in db.session.execute(select(Agency)).scalars()} if outcome else {}
    return render_template("admin/imports.html", form=form, outcome=outcome, confirm=confirm,
                           preview_rows=PREVIEW_ROWS, max_mb=importing.MAX_IMPORT_BYTES // (1024 * 1024),
                           errors_text=importing.iter_errors_text, planned_changes=planned_changes,
                           agency_names=agencies), status


def _filename(upload: Any) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "tep-nhap"


@bp.route("/imports", methods=["GET", "POST"])
@staff_required
def imports():
    scope = _scope()
    form = _import_form(scope)
    if not form.validate_on_submit():
        return _render_imports(form, status=400 if request.method == "POST" else 200)
    data = form.file.data.stream.read(importing.MAX_IMPORT_BYTES + 1)
    if len(data) > importing.MAX_IMPORT_BYTES:
        form.file.errors = [_too_large_message()]
        return _render_imports(form, status=413)
    filename, period = _filename(form.file.data), form.period.data or None
    outcome = bulk_import.import_services(
        db.session, data, filename, default_agency=form.agency.data or None, scope=scope, user=_me(), ip=_ip(),
        allow_private=_allow_private(), period=period, dry_run=True,
    )
    if not outcome.ok:
        return _render_imports(form, outcome=outcome, status=400)
    token = _pending().save(data, {"user_id": current_user.id, "filename": filename,
                                   "agency": form.agency.data or None, "period": period})
    return _render_imports(form, outcome=outcome, confirm=ConfirmImportForm(token=token))


@bp.post("/imports/confirm")
@staff_required
def import_confirm():
    confirm = ConfirmImportForm()
    if not confirm.validate_on_submit():
        abort(400)
    loaded = _pending().claim(confirm.token.data, current_user.id)
    if loaded is None:
        flash(_("Tệp chờ nhập đã hết hạn hoặc không còn; hãy tải lên lại."), "error")
        return redirect(url_for("admin.imports"))
    data, meta = loaded
    outcome = bulk_import.import_services(
        db.session, data, meta["filename"], default_agency=meta.get("agency"), scope=_scope(), user=_me(),
        ip=_ip(), allow_private=_allow_private(), period=meta.get("period"), dry_run=False,
    )
    if not outcome.ok:
        return _render_imports(_import_form(_scope(), from_request=False), outcome=outcome, status=400)
    _changed()
    summary = outcome.summary()
    flash(_("Đã nhập “%(file)s”: thêm %(added)s, cập nhật %(updated)s, không đổi %(unchanged)s.",
            file=outcome.filename, **summary), "success")
    return redirect(url_for("admin.services"))


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge):
    """A request body over MAX_CONTENT_LENGTH: the upload page with a clear message, not a bare 413."""
    form = _import_form(_scope() if current_user.is_authenticated else [], from_request=False)
    form.file.errors = [_too_large_message()]
    return _render_imports(form, status=413)


@bp.get("/imports/template.<any(csv, xlsx):fmt>")
@staff_required
def import_template(fmt: str):
    if fmt == "csv":
        body, mimetype = importing.template_csv().encode("utf-8-sig"), "text/csv; charset=utf-8"
    else:
        body = importing.template_xlsx()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="mau-danh-muc-dich-vu.{fmt}"'})


# ---------------------------------------------------------------- users


@bp.get("/users")
@admin_required
def users():
    rows = db.session.execute(select(User).order_by(User.role, User.email)).scalars().all()
    return render_template("admin/users.html", users=rows, action=ActionForm(), now=datetime.now(UTC))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    agencies = _agencies(None)
    form = UserForm()
    form.set_choices(agencies)
    loose: list[str] = []
    if form.validate_on_submit():
        agency = next((a for a in agencies if a.code == form.agency.data), None)
        try:
            user = accounts.create_user(
                db.session, email=form.email.data, role=form.role.data, password=form.password.data, agency=agency,
                by=_me(), ip=_ip(), min_length=current_app.config["PORTAL_PASSWORD_MIN_LENGTH"],
            )
        except accounts.AccountError as exc:
            loose = _attach(form, exc.errors)
        else:
            flash(_("Đã tạo tài khoản %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, loose=loose), status


@bp.post("/users/<int:user_id>/disable")
@admin_required
def user_disable(user_id: int):
    return _set_enabled(user_id, False)


@bp.post("/users/<int:user_id>/enable")
@admin_required
def user_enable(user_id: int):
    return _set_enabled(user_id, True)


@bp.post("/users/<int:user_id>/sign-out")
@admin_required
def user_sign_out(user_id: int):
    """Sign the user out everywhere: every session cookie of theirs stops working at its next request."""
    _action_or_400()
    user = db.session.get(User, user_id) or abort(404)
    accounts.end_sessions(db.session, user, by=_me(), ip=_ip())
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(_("Đã đăng xuất %(email)s khỏi mọi phiên.", email=user.email), "success")
    return redirect(url_for("admin.users"))


def _set_enabled(user_id: int, enabled: bool):
    _action_or_400()
    user = db.session.get(User, user_id) or abort(404)
    if not enabled and user.is_enabled and (page := ask_first(
        title=_("Khóa tài khoản"), label=_("Khóa tài khoản"),
        question=_("Khóa tài khoản %(email)s?", email=user.email),
        details=[_("Người này bị đăng xuất ngay và không đăng nhập được nữa cho đến khi tài khoản được mở lại.")],
        back=url_for("admin.users"),
    )):
        return page
    try:
        accounts.set_enabled(db.session, user, enabled, by=_me(), ip=_ip())
    except accounts.AccountError as exc:
        flash(next(iter(exc.errors.values())), "error")
    else:
        flash(_("Đã mở tài khoản %(email)s.", email=user.email) if enabled
              else _("Đã khóa tài khoản %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.users"))


# ---------------------------------------------------------------- agencies


@bp.get("/agencies")
@admin_required
def agencies():
    rows = _directory_order(list(db.session.execute(select(Agency)).scalars()))
    return render_template("admin/agencies.html", agencies=rows)


@bp.route("/agencies/new", methods=["GET", "POST"])
@admin_required
def agency_new():
    return _agency_form(None)


@bp.route("/agencies/<code>/edit", methods=["GET", "POST"])
@admin_required
def agency_edit(code: str):
    return _agency_form(agency_service.get_by_code(db.session, code) or abort(404))


def _agency_form(agency: Agency | None):
    others = _directory_order([a for a in db.session.execute(select(Agency)).scalars() if a is not agency])
    form = AgencyForm(obj=agency)
    form.set_choices(others)
    if agency is not None:
        del form.code
        if request.method == "GET":
            form.parent.data = agency.parent.code if agency.parent else ""
            form.successor.data = agency.successor.code if agency.successor else ""
    loose: list[str] = []
    if form.validate_on_submit():
        by_code = {a.code: a for a in others}
        values = registry.AgencyValues(
            code=agency.code if agency is not None else form.code.data.strip(),
            name=" ".join(form.name.data.split()), kind=form.kind.data,
            portal_url=(form.portal_url.data or "").strip() or None, parent=by_code.get(form.parent.data or ""),
            valid_from=form.valid_from.data, valid_to=form.valid_to.data,
            successor=by_code.get(form.successor.data or ""),
            reorganisation_basis=(form.reorganisation_basis.data or "").strip() or None,
            check_interval_minutes=form.check_interval_minutes.data,
        )
        try:
            saved = registry.save_agency(db.session, agency, values, user=_me(), ip=_ip())
        except registry.RegistryError as exc:
            loose = _attach(form, exc.errors)
        else:
            _changed()
            flash(_("Đã lưu cơ quan “%(name)s”.", name=saved.name), "success")
            return redirect(url_for("admin.agencies"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/agency_form.html", form=form, agency=agency, loose=loose), status


# ---------------------------------------------------------------- audit log


def _agency_names() -> dict[int, str]:
    if "agency_names" not in g:
        g.agency_names = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    return g.agency_names


def audit_changes(entry: AuditLog) -> list[tuple[str, str, str]]:
    """(field label, before, after) of what an entry changed, as the reader reads them; every value of a creation."""
    return changes.describe(changes.entry_changes(entry.before, entry.after), _agency_names())


def planned_changes(plan: bulk_import.PlannedRow) -> list[tuple[str, str, str]]:
    """(field label, before, after) of one row of an import preview."""
    return changes.describe(plan.changes, _agency_names())


@bp.get("/audit")
@admin_required
def audit_log():
    form = AuditFilterForm(request.args)
    all_agencies = _directory_order(list(db.session.execute(select(Agency)).scalars()))
    form.action.choices = [("", _("Tất cả hành động")),
                           *[(a, changes.action_label(a)) for a in audit.actions(db.session)]]
    form.agency.choices = agency_choices(all_agencies, empty=_("Tất cả cơ quan"))
    valid = form.validate()
    agency_ids = None
    if form.agency.data:
        agency = next((a for a in all_agencies if a.code == form.agency.data), None)
        agency_ids = agency_service.subunit_ids(db.session, agency) if agency is not None else []
    stmt = audit.entries(action=form.action.data or None, actor=form.user.data or None, agency_ids=agency_ids,
                         day_from=form.date_from.data if valid else None,
                         day_to=form.date_to.data if valid else None, zone=VIETNAM)
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    names = {a.id: a for a in all_agencies}
    params = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, page=page, agencies=names, params=params,
                           changes=audit_changes), (200 if valid else 400)
