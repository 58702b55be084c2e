"""Citizens' reports: the public form and thank-you page, the officers' pages at /admin/feedback, and the
template helpers that show reports on the service, agency and status pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import caching
from portal.blueprints.feedback_forms import CATEGORY_LABELS, STATUS_LABELS, FeedbackForm, ReplyForm
from portal.blueprints.figures_forms import ActionForm
from portal.caching import public_page
from portal.extensions import db
from portal.models import FEEDBACK_STATUSES, Agency, FeedbackReport, Service, utcnow
from portal.security import deny, scope_agency_ids, staff_required
from portal.services import agencies as agency_service
from portal.services import exports
from portal.services import feedback as svc

bp = Blueprint("feedback", __name__)
admin_bp = Blueprint("feedback_admin", __name__, url_prefix="/admin/feedback")
REFRESH_FOR = timedelta(minutes=10)  # the thank-you page reloads itself this long while the re-check waits

ERRORS = {
    "too_fast": lambda: _("Bạn gửi nhanh quá. Hãy kiểm tra lại nội dung rồi gửi lại."),
    "expired": lambda: _("Biểu mẫu đã mở quá lâu. Hãy gửi lại."),
    "bad_token": lambda: _("Biểu mẫu không hợp lệ. Hãy tải lại trang và gửi lại."),
    "client_limit": lambda: _("Bạn đã gửi nhiều phản ánh trong một giờ qua. Vui lòng thử lại sau."),
    "service_limit": lambda: _("Dịch vụ này đã nhận rất nhiều phản ánh trong một giờ qua; cơ quan quản lý đã được "
                               "báo. Vui lòng thử lại sau."),
    "bad_transition": lambda: _("Không thể chuyển phản ánh sang trạng thái này."),
    "empty_reply": lambda: _("Bắt buộc nhập."),
    "reply_too_long": lambda: _("Dài quá %(max)s ký tự.", max=svc.REPLY_MAX),
}


def _settings() -> svc.FeedbackSettings:
    return svc.FeedbackSettings.from_config(current_app.config)


def _service_or_404(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404)
    return service


def category_label(key: str) -> str:
    return str(CATEGORY_LABELS.get(key, key))


def status_label(key: str) -> str:
    return str(STATUS_LABELS.get(key, key))


# ---------------------------------------------------------------- template helpers


@bp.app_template_global()
def feedback_form(service: Service, form: FeedbackForm | None = None) -> FeedbackForm:
    """The report form of a service with a fresh signed start time. The page carries this visitor's CSRF token,
    so it must not be served to others from the page cache."""
    g.personal_page = g.no_store = True
    form = form or FeedbackForm(formdata=None)
    form.started.data = svc.form_token(current_app.config["SECRET_KEY"], service.id)
    return form


@bp.app_template_global()
def feedback_panel(service: Service) -> dict[str, Any]:
    """What the service page shows of the reports: the latest ones, counts and the citizens' incident."""
    counts = svc.counts_json(svc.status_counts(db.session, [service.id]).get(service.id))
    return {"reports": svc.public_reports(db.session, service.id), "counts": counts,
            "incident": svc.open_incident(db.session, service.id)}


@bp.app_template_global()
def agency_feedback_panel(agency: Agency) -> svc.AgencyFeedback:
    return svc.agency_feedback(db.session, agency_service.subunit_ids(db.session, agency))


@bp.app_template_global()
def citizen_incidents(agency_code: str | None = None) -> list:
    agency_ids = None
    if agency_code:
        agency = agency_service.get_by_code(db.session, agency_code)
        agency_ids = agency_service.subunit_ids(db.session, agency) if agency is not None else []
    return svc.open_incidents(db.session, agency_ids)


bp.add_app_template_global(category_label, "feedback_category_label")
bp.add_app_template_global(status_label, "feedback_status_label")


# ---------------------------------------------------------------- public


@bp.route("/services/<int:service_id>/feedback", methods=["GET", "POST"])
def report(service_id: int):
    g.no_store = True
    service = _service_or_404(service_id)
    settings = _settings()
    if request.method == "POST" and (request.content_length or 0) > settings.max_bytes:
        abort(413, description=_("Nội dung gửi quá lớn."))
    form = FeedbackForm()
    status, message = 200, None
    if request.method == "POST":
        status = 400
        if form.website.data:  # a robot filled the hidden field: answer as if it worked, keep nothing
            return render_template("feedback/received.html", service=service), 200
        if service.status != "active":
            message = _("Dịch vụ này đã ngừng cung cấp; thông tin dưới đây được giữ lại để tra cứu.")
        elif form.validate_on_submit():
            try:
                svc.check_form_token(current_app.config["SECRET_KEY"], form.started.data or "", service.id, settings)
                result = svc.submit(
                    db.session, service,
                    svc.Submission(form.category.data, form.description.data, form.description_public.data,
                                   form.contact.data if form.contact_consent.data else None),
                    client=svc.client_hash(current_app.config["SECRET_KEY"], request.remote_addr), settings=settings)
            except svc.FeedbackError as exc:
                message = ERRORS[exc.code]()
                status = 429 if exc.code.endswith("_limit") else 400
            else:
                caching.clear()
                return redirect(url_for("feedback.thanks", report_id=result.report.id,
                                        folded=1 if result.outcome == "folded" else None), 303)
    return render_template("feedback/form.html", service=service, form=form, message=message), status


@bp.get("/feedback/<int:report_id>")
def thanks(report_id: int):
    g.no_store = True
    item = db.session.get(FeedbackReport, report_id)
    if item is None:
        abort(404)
    recheck = svc.recheck_view(db.session, item)
    refresh = recheck.state == "queued" and utcnow() - item.created_at < REFRESH_FOR
    return render_template("feedback/thanks.html", report=item, service=item.service, recheck=recheck,
                           refresh=refresh, folded=request.args.get("folded") == "1")


@bp.get("/open-data/feedback.csv")
@public_page
def open_data_counts():
    """Report counts per service and status: nothing a reporter wrote."""
    headers = ["service_id", "agency_code", "reports_total", *(f"reports_{s}" for s in FEEDBACK_STATUSES)]
    body = exports.to_csv(headers, svc.service_count_rows(db.session))
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="phan-anh.csv"'})


# ---------------------------------------------------------------- officers


@admin_bp.before_request
def _no_store() -> None:
    g.no_store = True


def _scope() -> list[int] | None:
    return scope_agency_ids(db.session, current_user)


def _report_in_scope(report_id: int) -> FeedbackReport:
    item = db.session.get(FeedbackReport, report_id)
    if item is None:
        abort(404)
    scope = _scope()
    if scope is not None and item.service.agency_id not in scope:
        deny("feedback.denied", "feedback_report", report_id, item.service.agency_id)
    return item


@admin_bp.get("")
@staff_required
def index():
    status = request.args.get("status") or ""
    if status not in ("", *FEEDBACK_STATUSES):
        abort(400, description=_("Trạng thái không hợp lệ."))
    page = db.paginate(svc.reports_query(scope=_scope(), status=status or None),
                       page=request.args.get("page", 1, type=int), per_page=50, error_out=False)
    return render_template("feedback/admin_list.html", page=page, status=status, statuses=FEEDBACK_STATUSES)


@admin_bp.get("/<int:report_id>")
@staff_required
def detail(report_id: int):
    item = _report_in_scope(report_id)
    return render_template("feedback/admin_detail.html", report=item, reply_form=ReplyForm(reply=item.reply),
                           next_statuses=svc.TRANSITIONS.get(item.status, ()),
                           recheck=svc.recheck_view(db.session, item))


@admin_bp.post("/<int:report_id>/status")
@staff_required
def set_status(report_id: int):
    item = _report_in_scope(report_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        svc.change_status(db.session, item, request.form.get("status", ""), user=current_user._get_current_object(),
                          ip=request.remote_addr)
    except svc.FeedbackError as exc:
        flash(ERRORS[exc.code](), "error")
    else:
        caching.clear()
        flash(_("Đã chuyển phản ánh sang “%(status)s”.", status=status_label(item.status)), "success")
    return redirect(url_for("feedback_admin.detail", report_id=item.id), 303)


@admin_bp.post("/<int:report_id>/reply")
@staff_required
def reply(report_id: int):
    item = _report_in_scope(report_id)
    form = ReplyForm()
    if form.validate_on_submit():
        svc.write_reply(db.session, item, form.reply.data, user=current_user._get_current_object(),
                        ip=request.remote_addr)
        caching.clear()
        flash(_("Đã đăng câu trả lời."), "success")
        return redirect(url_for("feedback_admin.detail", report_id=item.id), 303)
    if "csrf_token" in form.errors:
        abort(400)
    return render_template("feedback/admin_detail.html", report=item, reply_form=form,
                           next_statuses=svc.TRANSITIONS.get(item.status, ()),
                           recheck=svc.recheck_view(db.session, item)), 400
