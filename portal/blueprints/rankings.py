"""Rankings pages: official-style tables per kind, metric, period and source; exports; an agency's trend."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from portal import formatting
from portal.caching import public_page
from portal.extensions import db
from portal.models import Agency
from portal.services import agencies as agency_service
from portal.services import catalogue, charts, exports, periods, ranking_choice, rankings
from portal.services.api import shapes
from portal.services.ranking_rules import METRICS, NO_ACTIVE_SERVICE, NO_DATA, NO_ONLINE_APPLICATIONS, ZERO, RankRow

bp = Blueprint("rankings", __name__)
EXPORT_FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "json": "application/json"}
PARAMS = ("kind", "metric", "source", "period")


def _english() -> bool:
    return str(get_locale() or "vi") == "en"


def metric_label(metric: str) -> str:
    spec = METRICS[metric]
    return spec.label_en if _english() else spec.label_vi


def period_label(key: str) -> str:
    if key == ranking_choice.CURRENT:
        return _("Hiện nay")
    return periods.label(key, english=_english())


def source_label(source: str) -> str:
    return _("Báo cáo") if source == "reported" else _("Xác minh")


def note_label(note: str | None) -> str:
    labels = {
        NO_DATA: _("Không có số liệu"),
        NO_ACTIVE_SERVICE: _("Chưa có dịch vụ hoạt động"),
        NO_ONLINE_APPLICATIONS: _("Không có hồ sơ trực tuyến"),
        ZERO: _("Bằng 0"),
        rankings.NO_ONLINE_SERVICE: _("Không cung cấp dịch vụ công trực tuyến"),
        rankings.NOT_ENOUGH_DATA: _("Chưa đủ dữ liệu"),
    }
    return labels.get(note, note or "")


def row_notes(result: rankings.Ranking, row: RankRow, other: RankRow | None) -> str:
    """The notes of a table row: no data / no service, the other source's note, merged and missing parts."""
    parts = [note_label(row.note)] if row.note else []
    if other is not None and other.note and result.counterpart is not None:
        parts.append(f"{source_label(result.counterpart.selection.source)}: {note_label(other.note)}")
    merged = [result.names.get(c, c) for c in row.extra.get("merged_from", []) if c != row.agency_code]
    if merged:
        parts.append(_("gồm cả %(names)s", names=", ".join(merged)))
    missing = sorted({c for codes in (row.extra.get("missing_parts") or {}).values() for c in codes})
    if missing:
        parts.append(_("thiếu số liệu của %(names)s", names=", ".join(result.names.get(c, c) for c in missing)))
    return "; ".join(parts)


def display(metric: str, value: Any) -> str:
    """A metric's value the way the page's language writes it (10.309 · 45,6 % · 0,942)."""
    if value is None:
        return "—"
    spec = METRICS[metric]
    if spec.kind == "share":
        return formatting.percent(float(value) * 100, spec.decimals)
    if spec.kind in ("index", "hours"):
        return formatting.number(value, spec.decimals)
    return formatting.number(value)


def error_text(exc: ranking_choice.RankingError) -> str:
    period = period_label(exc.period) if exc.period else ""
    messages = {
        "unknown_metric": _("Không có chỉ tiêu xếp hạng này."),
        "bad_kind": _("Khối cơ quan không hợp lệ."),
        "bad_source": _("Nguồn số liệu không hợp lệ."),
        "unknown_period": _("Không có số liệu cho kỳ đã chọn."),
        "no_reports": _("Chưa có cơ quan nào gửi báo cáo %(period)s; hãy xem số liệu xác minh.", period=period),
        "not_observed": _("Cổng chưa theo dõi kỳ %(period)s nên không có số liệu xác minh; hãy xem số liệu báo cáo.",
                          period=period),
        "index_not_observed": _("Các chỉ số ứng dụng CNTT chỉ có trong báo cáo chính thức; hãy chọn nguồn “Báo cáo”."),
        "not_reported": _("Chỉ tiêu này do cổng đo được, không có trong báo cáo; hãy chọn nguồn “Xác minh”."),
        "now_only": _("Tỷ lệ dịch vụ đang hoạt động chỉ có cho thời điểm hiện nay."),
        "no_rate_in_report": _("Báo cáo %(period)s không công bố tỷ lệ hồ sơ trực tuyến.", period=period),
        "annual_only": _("Chỉ số này chỉ có trong báo cáo năm."),
        "no_reported_figures": _("Chưa có số liệu báo cáo cho chỉ tiêu này; hãy xem số liệu xác minh."),
    }
    return messages.get(exc.reason, exc.message)


def _sample_shares(selection: ranking_choice.Selection) -> dict[str, tuple[int, int]]:
    """How many of each agency's registered services are sample data, for the verified figures of today."""
    if selection.source != "verified" or selection.period.key != ranking_choice.CURRENT:
        return {}
    level = {"services_l3": 3, "services_l4": 4}.get(selection.metric)
    return catalogue.sample_share_by_agency(db.session, list(db.session.execute(select(Agency)).scalars()), level)


def _min_checks() -> int:
    return current_app.config["PORTAL_EVIDENCE_MIN_CHECKS"]


def _choose(index: ranking_choice.PeriodIndex) -> ranking_choice.Selection:
    args = {k: (request.args.get(k) or "").strip()[:40] or None for k in PARAMS}
    return ranking_choice.choose(db.session, index=index, **args)


def _form_context(index: ranking_choice.PeriodIndex) -> dict[str, Any]:
    return {
        "form": {k: (request.args.get(k) or "").strip()[:40] for k in PARAMS},
        "kinds": formatting.kinds(),
        "metrics": [(key, metric_label(key)) for key in METRICS],
        "sources": [(s, source_label(s)) for s in ranking_choice.SOURCES],
        "periods": [(p.key, period_label(p.key)) for p in reversed(index.periods)],
        "metric_label": metric_label,
        "period_label": period_label,
        "source_label": source_label,
        "note_label": note_label,
        "row_notes": row_notes,
        "display": display,
    }


def _chart(result: rankings.Ranking) -> Markup:
    metric = result.selection.metric
    title = f"{metric_label(metric)} — {formatting.kind_label(result.selection.kind)}, " \
            f"{period_label(result.selection.period.key)} ({source_label(result.selection.source)})"
    rows = [(f"{row.rank}. {row.agency_name}", row.value) for row in result.rows if row.value is not None]
    return Markup(charts.bar_chart(rows, title=title, value_format=lambda v: display(metric, v)))  # noqa: S704 - escaped by charts


@bp.get("/rankings")
@public_page
def index():
    periods = ranking_choice.period_index(db.session)
    context = _form_context(periods)
    try:
        selection = _choose(periods)
    except ranking_choice.RankingError as exc:
        form = context["form"]
        metric = form["metric"] if form["metric"] in METRICS else ranking_choice.DEFAULT_METRIC
        kind = form["kind"] if form["kind"] in dict(formatting.kinds()) else ranking_choice.DEFAULT_KIND
        return render_template(
            "rankings/index.html", error=error_text(exc),
            alternatives=ranking_choice.alternatives(periods, metric, kind),
            alternative_params={**context["form"], "metric": metric}, **context,
        ), 400
    result = rankings.ranking(db.session, selection, index=periods, min_checks=_min_checks())
    samples = _sample_shares(selection)
    offered = set(ranking_choice.alternatives(periods, selection.metric, selection.kind))
    context["sources"] = [(s, label) for s, label in context["sources"] if any(s == o[0] for o in offered)]
    context["periods"] = [(key, label) for key, label in context["periods"] if any(key == o[1] for o in offered)]
    return render_template(
        "rankings/index.html", result=result, selection=selection, chart=_chart(result),
        comparable=rankings.comparable(result), min_checks=_min_checks(), samples=samples,
        sample_total=tuple(map(sum, zip(*(samples.get(r.agency_code, (0, 0)) for r in result.rows), strict=True)))
        if samples and result.rows else (0, 0),
        other_rows=result.counterpart.by_code() if result.counterpart else {}, **context,
    )


def export_table(result: rankings.Ranking) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of an exported table (values as numbers: counts, shares as 0–1, indices)."""
    selection = result.selection
    spec = METRICS[selection.metric]
    value_header = metric_label(selection.metric) + (" (0–1)" if spec.kind == "share" else "")
    other = result.counterpart
    header = [_("Hạng"), _("Mã cơ quan"), _("Cơ quan"), f"{value_header} ({source_label(selection.source)})"]
    if spec.tiebreak is not None:
        header.append(_("Số dịch vụ mức 4"))
    header.append(_("Ghi chú"))
    if other is not None:
        other_name = source_label(other.selection.source)
        header += [f"{_('Hạng')} ({other_name})", f"{value_header} ({other_name})", _("Thay đổi thứ hạng")]
    header.append(_("Gộp từ"))
    other_rows = other.by_code() if other else {}
    rows = []
    for row in result.rows:
        line: list[Any] = [row.rank, row.agency_code, row.agency_name, row.value]
        if spec.tiebreak is not None:
            line.append(row.extra.get("services_l4"))
        line.append(note_label(row.note))
        if other is not None:
            counterpart = other_rows.get(row.agency_code)
            line += [counterpart.rank if counterpart else None, counterpart.value if counterpart else None,
                     result.movement(row.agency_code)]
        merged = [c for c in row.extra.get("merged_from", []) if c != row.agency_code]
        line.append("; ".join(result.names.get(c, c) for c in merged))
        rows.append(line)
    return header, rows


@bp.get("/rankings/export.<fmt>")
def export(fmt: str):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    periods = ranking_choice.period_index(db.session)
    try:
        selection = _choose(periods)
    except ranking_choice.RankingError as exc:
        abort(400, description=error_text(exc))
    result = rankings.ranking(db.session, selection, index=periods, min_checks=_min_checks())
    params = selection.params()
    filename = "xep-hang_{metric}_{kind}_{period}_{source}.{fmt}".format(fmt=fmt, **params)
    if fmt == "json":
        body: str | bytes = json.dumps(shapes.ranking_json(result), ensure_ascii=False, indent=1)
    else:
        header, rows = export_table(result)
        if fmt == "csv":
            body = exports.to_csv(header, rows)
        else:
            body = exports.to_xlsx(header, rows, sheet_title=f"{params['metric']} {params['kind']}")
    response = Response(body, mimetype=EXPORT_FORMATS[fmt])
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/rankings/agency/<code>")
@public_page
def agency_trend(code: str):
    agency = agency_service.get_by_code(db.session, code)
    if agency is None:
        abort(404)
    top = agency.top()
    trend = rankings.agency_trend(db.session, top, min_checks=_min_checks())
    sections = []
    for metric, series in trend.items():
        lines = []
        for source, points in series.items():
            if any(p.value is not None for p in points):
                chart = None if sum(p.value is not None for p in points) < 2 else charts.trend_line(
                    [(period_label(p.period.key), p.value) for p in points],
                    title=f"{metric_label(metric)} — {source_label(source)}",
                    value_format=lambda v, m=metric: display(m, v),
                )
                lines.append((source, points, Markup(chart) if chart else None))  # noqa: S704 - escaped by charts
        if lines:
            sections.append((metric, lines))
    return render_template(
        "rankings/agency.html", agency=top, requested=agency, sections=sections,
        predecessors=agency_service.predecessors(db.session, top), metric_label=metric_label,
        period_label=period_label, source_label=source_label, note_label=note_label, display=display,
    )
