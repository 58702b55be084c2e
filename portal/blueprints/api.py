"""Open JSON API, /api/v1: read-only, public."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from portal.caching import public_page
from portal.extensions import csrf, db
from portal.models import AGENCY_KINDS, Service
from portal.services import agencies as agency_service
from portal.services import catalogue, figures, rankings
from portal.services.openapi import openapi_document
from portal.services.ranking import METRICS
from portal.services.search import QueryError, parse_query, search_services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_ID = 2**31 - 1  # ids are 32-bit integers: PostgreSQL refuses a larger one in a query


def error_response(status: int, message: str, param: str | None = None):
    body = {"code": status, "message": message}
    if param:
        body["param"] = param
    return jsonify(error=body), status


@bp.errorhandler(QueryError)
def bad_query(exc: QueryError):
    return error_response(400, exc.message, exc.param)


@bp.before_request
def refuse_nul_characters():
    """A NUL character is never part of a valid parameter (and PostgreSQL refuses it in a query)."""
    if "\x00" in request.path:
        abort(404)
    for name, value in request.args.items(multi=True):
        if "\x00" in value or "\x00" in name:
            param = name.replace("\x00", "")
            raise QueryError(param, f"'{param}' must not contain NUL characters")


@bp.get("/agencies")
@public_page
def agencies():
    kind = (request.args.get("kind") or "").strip() or None
    if kind and kind not in AGENCY_KINDS:
        raise QueryError("kind", f"'kind' must be one of {', '.join(AGENCY_KINDS)}")
    include_former = request.args.get("include_former") in {"1", "true"}
    items = agency_service.directory(db.session, kind=kind, include_former=include_former)
    return jsonify(items=[catalogue.agency_json(a) for a in items], total=len(items))


@bp.get("/agencies/<code>/figures")
def agency_figures(code: str):
    agency = agency_service.get_by_code(db.session, code)
    if agency is None:
        abort(404, description=f"no agency with code {code!r}")
    margin = current_app.config["PORTAL_FIGURES_MARGIN"]
    return jsonify(figures.agency_figures_json(db.session, agency, margin=margin))


@bp.get("/services")
@public_page
def services():
    query = parse_query(
        request.args,
        default_per_page=current_app.config["SEARCH_PER_PAGE"],
        max_per_page=current_app.config["SEARCH_MAX_PER_PAGE"],
    )
    page = search_services(db.session, query)
    return jsonify(
        items=[catalogue.service_json(s) for s in page.items],
        total=page.total,
        page=page.page,
        per_page=page.per_page,
    )


@bp.get("/services/<int:service_id>")
@public_page
def service(service_id: int):
    item = db.session.get(Service, service_id) if service_id <= MAX_ID else None
    if item is None:
        abort(404, description=f"no service with id {service_id}")
    return jsonify(catalogue.service_detail_json(db.session, item))


@bp.get("/rankings")
@public_page
def ranking_index():
    return jsonify(rankings.index_json(rankings.period_index(db.session)))


@bp.get("/rankings/<metric>")
@public_page
def ranking(metric: str):
    if metric not in METRICS:
        return error_response(404, f"unknown metric {metric[:40]!r}; see /api/v1/rankings", "metric")
    index = rankings.period_index(db.session)
    selection = rankings.choose(
        db.session, metric=metric, kind=request.args.get("kind"), source=request.args.get("source"),
        period=request.args.get("period"), index=index,
    )
    return jsonify(rankings.ranking_json(rankings.ranking(db.session, selection, index=index)))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(request.host_url.rstrip("/")))
