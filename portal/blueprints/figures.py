"""Administration of application figures: stat sources, held figures, quarterly reports and their export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.blueprints.confirm import ask_first
from portal.blueprints.figures_forms import (
    FIGURE_LABELS,
    MAX_SERVICE_CHOICES,
    ActionForm,
    ReportForm,
    StatSourceForm,
    preview_advice,
    source_status_text,
)
from portal.crawlers.probe import probe
from portal.crawlers.stats import FIGURES
from portal.extensions import db
from portal.models import Agency, ApplicationStat, Service, StatSource
from portal.security import (
    admin_required,
    can_manage_agency,
    deny,
    deny_posted_agency,
    scope_agency_ids,
    staff_required,
)
from portal.services import agencies as agency_service
from portal.services import audit, periods, quarterly_reports
from portal.services import figures as svc

bp = Blueprint("figures", __name__, url_prefix="/admin")


def _ip() -> str | None:
    return request.remote_addr


def _attach(form, errors: dict[str, str], mapping: dict[str, str] | None = None) -> list[str]:
    """Put service errors on the form's fields; return those that belong to no field."""
    loose = []
    for key, message in errors.items():
        field = getattr(form, (mapping or {}).get(key, key), None) if key else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            loose.append(message)
    return loose


def _action_or_400() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


# ---------------------------------------------------------------- stat sources


def _scope() -> list[int] | None:
    return scope_agency_ids(db.session, current_user)


@bp.get("/stat-sources")
@staff_required
def sources():
    return render_template("figures/sources.html", sources=svc.list_sources(db.session, _scope()),
                           action=ActionForm(), status_text=source_status_text)


def _agencies_in(scope: list[int] | None) -> list[Agency]:
    agencies = db.session.execute(select(Agency)).scalars().all()
    mine = [a for a in agencies if a.is_current() and (scope is None or a.id in scope)]
    return sorted(mine, key=lambda a: (a.top().name_folded, a.parent_id is not None, a.name_folded))


def _service_choices(agency_ids: list[int]) -> list[SelectChoice]:
    stmt = (select(Service).where(Service.agency_id.in_(agency_ids), Service.status == "active")
            .order_by(Service.name_folded, Service.id).limit(MAX_SERVICE_CHOICES))
    return [SelectChoice("", _("— Cả cơ quan (trang thống kê chung) —")),
            *[SelectChoice(str(s.id), s.name) for s in db.session.execute(stmt).scalars()]]


def _source_or_deny(source_id: int) -> StatSource:
    source = db.session.get(StatSource, source_id) or abort(404)
    if not can_manage_agency(db.session, current_user, source.agency_id):
        deny("stat_source.denied", "stat_source", source.id, agency_id=source.agency_id)
    return source


@bp.route("/stat-sources/new", methods=["GET", "POST"])
@staff_required
def source_new():
    return _source_form(None)


@bp.route("/stat-sources/<int:source_id>/edit", methods=["GET", "POST"])
@staff_required
def source_edit(source_id: int):
    return _source_form(_source_or_deny(source_id))


def _source_form(source: StatSource | None):
    scope = _scope()
    agencies = _agencies_in(scope)
    if source is not None and source.agency not in agencies:
        agencies.append(source.agency)
    deny_posted_agency(db.session, scope, "stat_source.denied")
    form = StatSourceForm()
    form.agency.choices = [SelectChoice(a.code, a.name if a.parent_id is None else f"— {a.name}") for a in agencies]
    if source is not None and request.method == "GET":
        form.agency.data, form.service_id.data = source.agency.code, source.service_id
        form.url.data, form.label.data = source.url, source.label
        form.period.data = source.period
        form.fill_rule(source.rule)
    chosen = agency_service.get_by_code(db.session, form.agency.data or "") if form.agency.data else None
    chosen = chosen or (agencies[0] if agencies else None)
    form.service_id.choices = _service_choices(
        agency_service.subunit_ids(db.session, chosen) if chosen is not None else [])
    preview, loose = None, []
    if form.validate_on_submit():
        agency = agency_service.get_by_code(db.session, form.agency.data)
        rule = svc.build_rule(form.extractor.data, form.specs())
        if form.test.data:
            errors = svc.source_errors(db.session, agency=agency, service_id=form.service_id.data,
                                       url=form.url.data.strip(), rule=rule, period=form.period.data)
            loose = _attach(form, errors, {"rule": "extractor", "service_id": "service_id"})
            if not errors:
                preview = probe(form.url.data.strip(), rule, svc.checker_config(current_app.config),
                                (form.period.data or "").strip() or None)
        else:
            try:
                saved = svc.save_source(db.session, source, agency=agency, url=form.url.data, rule=rule,
                                        service_id=form.service_id.data, label=form.label.data,
                                        period=form.period.data, user=current_user, ip=_ip())
            except svc.FiguresError as exc:
                loose = _attach(form, exc.errors, {"rule": "extractor"})
            else:
                flash(_("Đã lưu nguồn số liệu #%(id)s.", id=saved.id), "success")
                return redirect(url_for("figures.sources"))
    status = 400 if request.method == "POST" and (form.errors or loose) else 200
    return render_template("figures/source_form.html", form=form, source=source, preview=preview, loose=loose,
                           figure_labels=FIGURE_LABELS, figures=FIGURES, advice=preview_advice(preview),
                           action=ActionForm(), status_text=source_status_text), status


@bp.post("/stat-sources/<int:source_id>/read")
@staff_required
def source_read(source_id: int):
    _action_or_400()
    source = _source_or_deny(source_id)
    svc.read_source(db.session, source, svc.checker_config(current_app.config))
    audit.record(db.session, action="stat_source.read", entity_type="stat_source", entity_id=source.id,
                 user=current_user, agency_id=source.agency_id, ip=_ip(), before=None,
                 after={"status": source.last_status})
    db.session.commit()
    headline, todo = source_status_text(source.last_status)
    flash(" ".join(filter(None, [_("Nguồn #%(id)s:", id=source.id), headline, todo])),
          "success" if source.last_status == "published" else "error")
    return redirect(request.form.get("next") if request.form.get("next") == url_for(
        "figures.source_edit", source_id=source.id) else url_for("figures.sources"))


@bp.post("/stat-sources/<int:source_id>/disable")
@staff_required
def source_disable(source_id: int):
    return _toggle(source_id, False)


@bp.post("/stat-sources/<int:source_id>/enable")
@staff_required
def source_enable(source_id: int):
    return _toggle(source_id, True)


def _toggle(source_id: int, enabled: bool):
    _action_or_400()
    source = _source_or_deny(source_id)
    if source.is_enabled != enabled:
        svc.set_source_enabled(db.session, source, enabled, user=current_user, ip=_ip())
    flash(_("Đã bật nguồn số liệu.") if enabled else _("Đã tắt nguồn số liệu."), "success")
    return redirect(url_for("figures.sources"))


# ---------------------------------------------------------------- held figures


@bp.get("/figures/held")
@admin_required
def held():
    stats = svc.held_stats(db.session)
    previous = {s.id: svc.last_published(db.session, s.source_id) for s in stats if s.source_id}
    return render_template("figures/held.html", stats=stats, previous=previous, action=ActionForm(),
                           figure_labels=FIGURE_LABELS, figures=FIGURES)


@bp.post("/figures/<int:stat_id>/<any(approve, reject):decision>")
@admin_required
def review(stat_id: int, decision: str):
    _action_or_400()
    stat = db.session.get(ApplicationStat, stat_id) or abort(404)
    try:
        svc.review_stat(db.session, stat, approve=decision == "approve", user=current_user, ip=_ip())
    except svc.FiguresError as exc:
        flash(next(iter(exc.errors.values())), "error")
    else:
        flash(_("Đã công bố số liệu.") if decision == "approve" else _("Đã loại bỏ số liệu."), "success")
    return redirect(url_for("figures.held"))


# ---------------------------------------------------------------- quarterly reports


def _period_or_404(period: str) -> str:
    if not periods.is_quarter(period):
        abort(404)
    return period


@bp.get("/reports")
@staff_required
def reports():
    quarters = periods.recent_quarters()
    try:
        period = periods.normalize(request.args.get("period") or quarters[0])
    except ValueError:
        period = ""
    if not periods.is_quarter(period):
        abort(400, description=_("Kỳ báo cáo phải có dạng Quý III/2026 hoặc 2026-Q3."))
    scope = scope_agency_ids(db.session, current_user)
    return render_template(
        "figures/reports.html", period=period, periods=quarters, label=periods.label(period),
        agencies=quarterly_reports.reportable_agencies(db.session, scope),
        reports=quarterly_reports.reports_for_period(db.session, period, scope),
        locked=quarterly_reports.is_locked(db.session, period), lock=quarterly_reports.lock_of(db.session, period),
        action=ActionForm(),
    )


@bp.route("/reports/<period>/<code>", methods=["GET", "POST"])
@staff_required
def report_edit(period: str, code: str):
    _period_or_404(period)
    agency = agency_service.get_by_code(db.session, code) or abort(404)
    if not can_manage_agency(db.session, current_user, agency):
        audit.record(db.session, action="report.denied", entity_type="quarterly_report", user=current_user,
                     agency_id=agency.id, ip=_ip(), note=f"{period} {agency.code}")
        db.session.commit()
        abort(403)
    report = quarterly_reports.get_report(db.session, agency, period)
    lock = quarterly_reports.lock_of(db.session, period)
    form = ReportForm(obj=report)
    prefill: dict[str, tuple[int, str]] = {}
    if report is None:
        prefill = quarterly_reports.report_prefill(db.session, agency, period)
        if request.method == "GET":
            for name, (value, _origin) in prefill.items():
                getattr(form, name).data = value
    loose: list[str] = []
    if request.method == "POST":
        valid = form.validate_on_submit()
        values = {name: getattr(form, name).data for name in quarterly_reports.REPORT_FIELDS}
        errors = {k: v for k, v in quarterly_reports.report_errors(values).items() if not getattr(form, k).errors}
        if valid and not errors:
            try:
                quarterly_reports.save_report(db.session, agency=agency, period=period, values=values,
                                              note=form.note.data, user=current_user, ip=_ip())
            except svc.FiguresError as exc:
                loose = _attach(form, exc.errors)
            else:
                flash(_("Đã lưu báo cáo %(label)s của %(name)s.", label=periods.label(period),
                        name=agency.name), "success")
                return redirect(url_for("figures.reports", period=period))
        else:
            loose = _attach(form, errors)
    status = 400 if request.method == "POST" else 200
    if lock is not None and request.method == "POST":
        status = 409
    return render_template("figures/report_form.html", form=form, agency=agency, period=period,
                           label=periods.label(period), report=report, locked=lock is not None, lock=lock,
                           loose=loose, prefill=prefill), status


@bp.post("/reports/<period>/lock", defaults={"decision": "lock"})
@bp.post("/reports/<period>/unlock", defaults={"decision": "unlock"})
@admin_required
def report_lock(period: str, decision: str):
    _period_or_404(period)
    _action_or_400()
    label = periods.label(period)
    if decision == "lock" and not quarterly_reports.is_locked(db.session, period) and (page := ask_first(
        title=_("Khóa quý"), label=_("Khóa %(label)s", label=label),
        question=_("Khóa báo cáo %(label)s?", label=label),
        details=[_("Sau khi khóa, cán bộ các cơ quan không gửi hoặc sửa được báo cáo của quý này; quản trị viên "
                   "có thể mở khóa lại.")],
        back=url_for("figures.reports", period=period),
    )):
        return page
    quarterly_reports.set_locked(db.session, period, decision == "lock", user=current_user, ip=_ip())
    flash(_("Đã khóa %(label)s.", label=label) if decision == "lock" else _("Đã mở khóa %(label)s.", label=label),
          "success")
    return redirect(url_for("figures.reports", period=period))


@bp.get("/reports/<period>.xlsx")
@admin_required
def report_export(period: str):
    _period_or_404(period)
    body = quarterly_reports.export_xlsx(db.session, period)
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="bao-cao-{period}.xlsx"'},
    )
