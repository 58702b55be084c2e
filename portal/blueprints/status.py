"""Status pages: services down or dead now, nationwide and per agency, and an Atom feed of incidents."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from portal.extensions import db
from portal.formatting import health_label, healths, kinds, reason_label, reasons
from portal.services import agencies as agency_service
from portal.services import status as status_service
from portal.services import sweeps
from portal.services.search import QueryError
from portal.vocabulary import FAILING
from portal.web import public_url_for

bp = Blueprint("status", __name__, url_prefix="/status")


@bp.get("")
def index():
    error: QueryError | None = None
    try:
        query = status_service.parse_status_query(request.args)
        page = status_service.failing_services(db.session, query)
    except QueryError as exc:
        error, query, page = exc, status_service.StatusQuery(), None
    return render_template(
        "status/index.html",
        query=query,
        page=page,
        error=error,
        by_agency=status_service.health_by_agency(db.session),
        incidents=status_service.recent_incidents(db.session, limit=10, agency_code=query.agency),
        agencies=agency_service.directory(db.session, include_former=False),
        kinds=kinds(),
        healths=[(k, v) for k, v in healths() if k in status_service.FAILING],
        reasons=reasons(status_service.REASONS),
        monitor_fault=sweeps.open_fault(db.session),
    ), (400 if error else 200)


@bp.get("/incidents.atom")
def incidents_feed():
    incidents = status_service.recent_incidents(db.session, limit=50)
    labels = {state: health_label(state) for state in FAILING}
    labels |= {reason: reason_label(reason) for reason, _label in reasons()}
    labels |= {"recovered": _("Đã hoạt động trở lại"), "reason": _("Lý do")}
    body = status_service.incidents_atom(
        incidents,
        feed_url=public_url_for("status.incidents_feed"),
        site_url=public_url_for("status.index"),
        service_url=lambda service_id: public_url_for("public.service_detail", service_id=service_id),
        title=_("Cổng dịch vụ công — sự cố"),
        labels=labels,
    )
    return Response(body, mimetype="application/atom+xml")
