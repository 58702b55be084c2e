"""Open JSON API, /api/v1: read-only, public."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from portal.caching import public_page
from portal.extensions import csrf, db
from portal.models import AGENCY_KINDS, Service
from portal.services import agencies as agency_service
from portal.services import compliance as compliance_service
from portal.services import feedback, procedures, ranking_choice, rankings
from portal.services.api import shapes
from portal.services.api.openapi import openapi_document
from portal.services.importing import SCOPES
from portal.services.ranking_rules import METRICS
from portal.services.search import QueryError, parse_query, search_services, suggest

bp = Blueprint("api", __name__, url_prefix="/api/v1")
AGENCY_CODE_RE = re.compile(r"^[a-z0-9-]{1,80}$")
csrf.exempt(bp)


def error_response(status: int, message: str, param: str | None = None):
    body = {"code": status, "message": message}
    if param:
        body["param"] = param
    return jsonify(error=body), status


@bp.get("/agencies")
@public_page
def agencies():
    kind = (request.args.get("kind") or "").strip() or None
    if kind and kind not in AGENCY_KINDS:
        raise QueryError("kind", f"'kind' must be one of {', '.join(AGENCY_KINDS)}")
    include_former = request.args.get("include_former") in {"1", "true"}
    items = agency_service.directory(db.session, kind=kind, include_former=include_former)
    return jsonify(items=[shapes.agency_json(a) for a in items], total=len(items))


@bp.get("/agencies/<code>/figures")
def agency_figures(code: str):
    agency = agency_service.get_by_code(db.session, code)
    if agency is None:
        abort(404, description=f"no agency with code {code!r}")
    margin = current_app.config["PORTAL_FIGURES_MARGIN"]
    return jsonify(shapes.agency_figures_json(db.session, agency, margin=margin))


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
        items=[shapes.service_json(s) for s in page.items],
        total=page.total,
        page=page.page,
        per_page=page.per_page,
    )


@bp.get("/suggest")
@public_page
def suggestions():
    q = (request.args.get("q") or "")[:500]
    items, understanding = suggest(db.session, q)
    return jsonify(
        q=q,
        searched_for=understanding.searched_for if understanding else None,
        items=[{"name": i.name, "services": i.services, "url": url_for("public.services", q=i.name)}
               for i in items],
    )


@bp.get("/services/<int:service_id>")
@public_page
def service(service_id: int):
    item = db.session.get(Service, service_id)
    if item is None:
        abort(404, description=f"no service with id {service_id}")
    reports = feedback.counts_json(feedback.status_counts(db.session, [item.id]).get(item.id))
    return jsonify(shapes.service_detail_json(db.session, item) | {"reports": reports})


# ---------------------------------------------------------------- procedure catalogues and compliance


def _catalogue_param() -> procedures.CatalogueInfo:
    """The `catalogue` asked for (default: Decision 846 when imported, else the sample); 400 / 404."""
    listed = procedures.catalogues(db.session)
    name = (request.args.get("catalogue") or "").strip()
    if name and procedures.catalogue_problem(name):
        raise QueryError("catalogue", "'catalogue' must be a catalogue name such as qd-846-2017")
    if not name and not listed:
        abort(404, description="no procedure catalogue has been loaded")
    found = next((c for c in listed if c.name == (name or listed[0].name)), None)
    if found is None:
        abort(404, description=f"no catalogue named {name!r}")
    return found


def _choice_param(name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = (request.args.get(name) or "").strip() or default
    if value is not None and value not in choices:
        raise QueryError(name, f"'{name}' must be one of {', '.join(choices)}")
    return value


@bp.get("/catalogues")
@public_page
def catalogues():
    items = procedures.catalogues(db.session)
    return jsonify(items=[shapes.catalogue_json(c) for c in items], total=len(items))


@bp.get("/procedures")
@public_page
def procedure_list():
    info = _catalogue_param()
    scope = _choice_param("scope", SCOPES, None)
    entries = procedures.catalogue_entries(db.session, info.name, scope)
    items = [shapes.catalogue_entry_json(e) for e in entries]
    return jsonify(catalogue=shapes.catalogue_json(info), scope=scope, items=items, total=len(items))


@bp.get("/compliance")
@public_page
def compliance():
    info = _catalogue_param()
    kind = _choice_param("kind", AGENCY_KINDS, "province")
    rows = compliance_service.ranking(db.session, info.name, kind)
    items = [shapes.compliance_row_json(r) for r in rows]
    return jsonify(catalogue=shapes.catalogue_json(info), kind=kind, scope=compliance_service.scope_for_kind(kind),
                   items=items, total=len(items))


@bp.get("/compliance/<code>")
@public_page
def compliance_agency(code: str):
    info = _catalogue_param()
    agency = agency_service.get_by_code(db.session, code) if AGENCY_CODE_RE.match(code) else None
    if agency is None or agency.parent_id is not None or not agency.is_current():
        abort(404, description=f"no current top-level agency with code {code[:80]!r}")
    summary, rows = compliance_service.agency_detail(db.session, info.name, agency)
    standing = next(
        (r for r in compliance_service.ranking(db.session, info.name, agency.kind) if r.agency_code == code), None
    )
    return jsonify(shapes.compliance_agency_json(info, agency, standing, summary, rows))


@bp.get("/rankings")
@public_page
def ranking_index():
    return jsonify(shapes.index_json(ranking_choice.period_index(db.session)))


@bp.get("/rankings/<metric>")
@public_page
def ranking(metric: str):
    if metric not in METRICS:
        return error_response(404, f"unknown metric {metric[:40]!r}; see /api/v1/rankings", "metric")
    index = ranking_choice.period_index(db.session)
    selection = ranking_choice.choose(
        db.session, metric=metric, kind=request.args.get("kind"), source=request.args.get("source"),
        period=request.args.get("period"), index=index,
    )
    result = rankings.ranking(db.session, selection, index=index,
                              min_checks=current_app.config["PORTAL_EVIDENCE_MIN_CHECKS"])
    return jsonify(shapes.ranking_json(result))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["PORTAL_PUBLIC_URL"].rstrip("/")))
