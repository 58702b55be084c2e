"""National open data: the whole service catalogue (CSV, JSON, JSON Lines, XLSX), agencies, procedure catalogues."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, stream_with_context
from flask_babel import gettext as _

from portal.caching import public_page
from portal.extensions import db
from portal.services import opendata as svc
from portal.services import procedures
from portal.services.exports import iter_csv

bp = Blueprint("opendata", __name__, url_prefix="/open-data")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FLAGS = {"": False, "0": False, "false": False, "1": True, "true": True}


def _include_retired() -> bool:
    value = (request.args.get("include_retired") or "").strip().lower()
    if value not in _FLAGS:
        abort(400, description=_("include_retired phải là 0 hoặc 1."))
    return _FLAGS[value]


def _download(body, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "public, max-age=300",
    })


@bp.get("")
@public_page
def index():
    return render_template(
        "opendata/index.html", summary=svc.dataset_summary(db.session), catalogues=procedures.catalogues(db.session),
        service_columns=svc.SERVICE_COLUMNS, agency_columns=svc.AGENCY_COLUMNS,
        procedure_columns=svc.PROCEDURE_COLUMNS,
        xlsx_minutes=max(1, round(svc.xlsx_max_age(current_app.config) / 60)),
    )


@bp.get("/services.<any(csv, json, jsonl):fmt>")
def services(fmt: str):
    include_retired = _include_retired()
    rows = svc.iter_service_rows(db.session, include_retired=include_retired)
    suffix = "-tat-ca" if include_retired else ""
    if fmt == "csv":
        body, mimetype = iter_csv(svc.SERVICE_COLUMNS, rows), "text/csv"
    elif fmt == "json":
        body, mimetype = svc.iter_json_array(svc.SERVICE_COLUMNS, rows), "application/json"
    else:
        body, mimetype = svc.iter_json_lines(svc.SERVICE_COLUMNS, rows), "application/x-ndjson"
    return _download(stream_with_context(svc.chunked(body)), mimetype, f"dich-vu-cong{suffix}.{fmt}")


@bp.get("/services.xlsx")
def services_xlsx():
    include_retired = _include_retired()
    folder = svc.xlsx_folder(current_app.config, current_app.instance_path,
                             db.engine.url.render_as_string(hide_password=True))
    path = svc.services_xlsx(db.session, folder, include_retired=include_retired,
                             max_age=svc.xlsx_max_age(current_app.config))
    suffix = "-tat-ca" if include_retired else ""
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=f"dich-vu-cong{suffix}.xlsx", max_age=300)


@bp.get("/agencies.csv")
def agencies():
    return _download(iter_csv(svc.AGENCY_COLUMNS, svc.agency_rows(db.session)), "text/csv", "co-quan.csv")


@bp.get("/procedures.csv")
def procedure_catalogues():
    catalogue = (request.args.get("catalogue") or "").strip() or None
    if catalogue is not None and catalogue not in {c.name for c in procedures.catalogues(db.session)}:
        abort(404, description=_("Không có danh mục “%(name)s”.", name=catalogue[:80]))
    rows = svc.procedure_rows(db.session, catalogue)
    return _download(iter_csv(svc.PROCEDURE_COLUMNS, rows), "text/csv", f"thu-tuc-{catalogue or 'tat-ca'}.csv")
