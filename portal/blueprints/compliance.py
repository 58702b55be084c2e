"""Decision 846 compliance: the agencies × required procedures matrix, the ranking, one agency's gaps."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.caching import public_page
from portal.extensions import db
from portal.formatting import kinds
from portal.models import AGENCY_KINDS
from portal.services import compliance as svc
from portal.services import procedures
from portal.services.agencies import get_by_code
from portal.services.exports import iter_csv, to_xlsx

bp = Blueprint("compliance", __name__, url_prefix="/compliance")

AGENCY_CODE_RE = re.compile(r"^[a-z0-9-]{1,80}$")
MAX_COLUMNS = 80
STATE_LABELS = {
    svc.ONLINE: _l("Đạt mức yêu cầu"),
    svc.LOWER: _l("Thấp hơn mức yêu cầu"),
    svc.MISSING: _l("Chưa có"),
    svc.NOT_REQUIRED: _l("Không áp dụng"),
    svc.NONE_ONLINE: _l("Chưa có thủ tục nào đạt mức yêu cầu"),
}
EXPORT_HEADERS = {
    "rank": _l("Hạng"),
    "agency_code": _l("Mã cơ quan"),
    "agency_name": _l("Cơ quan"),
    "required": _l("Số thủ tục phải cung cấp"),
    "online": _l("Đạt mức yêu cầu"),
    "lower_level": _l("Thấp hơn mức yêu cầu"),
    "missing": _l("Chưa có"),
    "compliance_percent": _l("Tỷ lệ đạt (%)"),
    "note": _l("Ghi chú"),
}


@dataclass
class Selection:
    catalogue: str | None
    kind: str
    field: str | None
    catalogues: list[procedures.CatalogueInfo]

    @property
    def info(self) -> procedures.CatalogueInfo | None:
        return next((c for c in self.catalogues if c.name == self.catalogue), None)


def selection(args) -> Selection:
    """The catalogue, kind and field asked for; 404 for an unknown catalogue, 400 for a bad kind."""
    listed = procedures.catalogues(db.session)
    catalogue = (args.get("catalogue") or "").strip() or (listed[0].name if listed else None)
    if catalogue is not None and catalogue not in {c.name for c in listed}:
        abort(404, description=_("Không có danh mục “%(name)s”.", name=catalogue[:80]))
    kind = (args.get("kind") or "").strip() or "province"
    if kind not in AGENCY_KINDS:
        abort(400, description=_("Khối cơ quan không hợp lệ."))
    field = (args.get("field") or "").strip() or None
    return Selection(catalogue, kind, field, listed)


@bp.get("")
@public_page
def index():
    chosen = selection(request.args)
    matrix = None
    if chosen.catalogue:
        matrix = svc.matrix(db.session, chosen.catalogue, chosen.kind, field_name=chosen.field,
                            max_columns=MAX_COLUMNS)
    if matrix is not None and chosen.field and chosen.field not in matrix.fields:
        abort(400, description=_("Lĩnh vực không có trong danh mục."))
    return render_template("compliance/index.html", chosen=chosen, matrix=matrix, kinds=kinds(),
                           state_labels=STATE_LABELS, catalogue_label=procedures.catalogue_label)


@bp.get("/<code>")
@public_page
def agency(code: str):
    chosen = selection(request.args)
    found = get_by_code(db.session, code) if AGENCY_CODE_RE.match(code) else None
    if found is None or chosen.catalogue is None or found.parent_id is not None or not found.is_current():
        abort(404)
    summary, rows = svc.agency_detail(db.session, chosen.catalogue, found)
    standing = next((r for r in svc.ranking(db.session, chosen.catalogue, found.kind) if r.agency_code == code), None)
    return render_template("compliance/agency.html", chosen=chosen, agency=found, summary=summary, rows=rows,
                           standing=standing, state_labels=STATE_LABELS, catalogue_label=procedures.catalogue_label)


@bp.get("/export.<any(csv, xlsx):fmt>")
def export(fmt: str):
    chosen = selection(request.args)
    if chosen.catalogue is None:
        abort(404)
    matrix = svc.matrix(db.session, chosen.catalogue, chosen.kind)
    header, rows = svc.export_rows(matrix, {k: str(v) for k, v in STATE_LABELS.items()})
    header = [str(EXPORT_HEADERS.get(h, h)) for h in header]
    name = f"tuan-thu-{chosen.catalogue}-{chosen.kind}"
    if fmt == "csv":
        return Response("".join(iter_csv(header, rows)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(
        to_xlsx(header, rows, sheet_title=_("Tuân thủ")),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
