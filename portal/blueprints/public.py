"""Public pages: home, service search and detail, agency directory and agency pages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.caching import public_page
from portal.extensions import db
from portal.formatting import healths, kinds
from portal.i18n import current_locale
from portal.i18n import lazy_gettext as _l
from portal.models import Agency, Service, utcnow
from portal.services import agencies as agency_service
from portal.services import availability, catalogue, figures_compare, registry, sweeps
from portal.services.querying import nearest_names
from portal.services.search import QueryError, ServiceQuery, fields, parse_query
from portal.services.search_groups import ResultGroup, search_groups

bp = Blueprint("public", __name__)


@bp.app_template_global()
def option_tags(options: list, selected: object = None, former_suffix: str = "") -> Markup:
    """<option> tags of (value, label) or (value, label, current) items or strings, one marked selected (the search
    form's hundred-odd agencies; the form is kept once rendered, see web.fragment)."""
    chosen = "" if selected is None else str(selected)
    tags = []
    for item in options:
        item = (item, item) if isinstance(item, str) else item
        label = item[1] if len(item) < 3 or item[2] else f"{item[1]} ({former_suffix})"
        mark = " selected" if str(item[0]) == chosen else ""
        tags.append(f'<option value="{escape(item[0])}"{mark}>{escape(label)}</option>')
    return Markup("".join(tags))  # noqa: S704 - values and labels escaped above


_LABELS: dict[tuple[str, bool, str], str] = {}


@bp.app_template_global()
def picker_tags(group: ResultGroup, merged: str, level_3: str, level_4: str) -> Markup:
    """The <option>s of a result's province picker: "Agency (merged) · level" by agency name. A common procedure
    has a hundred-odd, so the escaped agency labels are kept."""
    levels = {3: f" · {escape(level_3)}</option>", 4: f" · {escape(level_4)}</option>"}
    merged = str(merged)
    tags = []
    for s in group.picker():
        agency = s.agency
        key = (agency.name, agency.former, merged)
        label = _LABELS.get(key)
        if label is None:
            if len(_LABELS) > 4096:
                _LABELS.clear()
            label = _LABELS[key] = str(escape(f"{agency.name} ({merged})" if agency.former else agency.name))
        tags.append(f'<option value="{s.id}">{label}{levels.get(s.level) or levels[3]}')
    return Markup("".join(tags))  # noqa: S704 - the labels are escaped, the values are integers


def _vi(text: object, lang_vi: bool) -> str:
    """A Vietnamese name; on English pages marked as such for screen readers (the vi() macro's markup)."""
    return str(escape(text)) if lang_vi else f'<span lang="vi">{escape(text)}</span>'


_ROW_WORDS = {
    "pick_label": _l("Chọn tỉnh, thành phố hoặc cơ quan"), "go": _l("Xem"), "merged": _l("đã sáp nhập"),
    "now_part": _l("nay thuộc"), "level_3": _l("mức 3"), "level_4": _l("mức 4"),
    "in_provinces": _l("có ở %(n)s tỉnh, thành phố"), "in_agencies": _l("có ở %(n)s cơ quan"),
}
_ROW_WORDS_DONE: dict[tuple[str, str], dict[str, str]] = {}


def _row_words() -> dict[str, str]:
    """The result rows' words in the reader's language, escaped, and the addresses they link to; once per
    language (and application root)."""
    key = (str(current_locale()), request.script_root)
    words = _ROW_WORDS_DONE.get(key)
    if words is None:
        words = {name: str(escape(str(label))) for name, label in _ROW_WORDS.items()}
        words |= {"services_url": url_for("public.services"), "agencies_url": url_for("public.agency_directory"),
                  "pick_url": url_for("public.service_pick"), "raw_merged": str(_ROW_WORDS["merged"]),
                  "raw_level_3": str(_ROW_WORDS["level_3"]), "raw_level_4": str(_ROW_WORDS["level_4"])}
        _ROW_WORDS_DONE[key] = words
    return words


@bp.app_template_global()
def result_rows(groups: list[ResultGroup], macros: dict[str, Callable[..., str]], lang_vi: bool) -> Markup:
    """The search page's result rows: the page's hot loop, built here rather than in Jinja (a row costs a tenth).
    `macros` are the page's badge macros, called only for a row not built yet; every value from the catalogue
    is escaped. A group is shared by every page showing the same services (search_groups keeps them, known by
    all they show), so its row is kept with it, per language."""
    words = _row_words()
    key = (id(words), lang_vi)  # the words of a language are kept for the process's life: their id is theirs
    rows = []
    for group in groups:
        row = group.kept.get(key)
        if row is None:
            row = group.kept[key] = _result_row(group, words, macros, lang_vi)
        rows.append(row)
    return Markup("".join(rows))  # noqa: S704 - every value is escaped in _result_row


def _result_row(group: ResultGroup, words: dict[str, str], macros: dict[str, Callable[..., str]], lang_vi: bool) -> str:
    best = group.best
    name = escape(group.name)
    link = f'<a href="{words["services_url"]}/{best.id}">{_vi(group.name, lang_vi)}</a>'
    title = f'<h2 class="result-title">{link}</h2>'
    if group.agencies > 1:
        meta = (words["in_provinces"].replace("%(n)s", str(group.provinces)) if group.provinces > 1
                else words["in_agencies"].replace("%(n)s", str(group.agencies)))
    else:
        meta = (f'<a href="{words["agencies_url"]}/{quote(best.agency_code)}">'
                f'{_vi(best.agency_name, lang_vi)}</a>')
        if best.now_in:
            meta += f' <span class="former-note">({words["now_part"]} {_vi(best.now_in, lang_vi)})</span>'
        elif best.former:
            meta += f' <span class="former-note">({words["merged"]})</span>'
    marks = "".join(f"{macros['level_badge'](level)} " for level in group.levels)
    if group.agencies == 1:
        marks += f"{macros['health_badge'](best.health)} "
    if best.is_sample:
        marks += str(macros["sample_badge"](best))
    picker = ""
    if group.agencies > 1:
        picker = (f'<form class="picker" method="get" action="{words["pick_url"]}">'
                  f'<label for="pick-{best.id}">{words["pick_label"]}</label>'
                  f'<select id="pick-{best.id}" name="service">'
                  f'{picker_tags(group, words["raw_merged"], words["raw_level_3"], words["raw_level_4"])}</select>'
                  f'<button type="submit">{words["go"]}<span class="visually-hidden"> {name}</span></button>'
                  "</form>")
    return (f'<li class="result result-group">\n{title}\n<p class="result-meta">{meta}</p>\n'
            f"<p>{marks}</p>\n{picker}</li>\n")


@bp.get("/")
@public_page
def home():
    return render_template("public/home.html", figures=catalogue.national_figures(db.session), now=utcnow())


@bp.get("/services")
@public_page
def services():
    error: QueryError | None = None
    nearest: list[str] = []
    try:
        query = parse_query(request.args, default_per_page=current_app.config["SEARCH_PER_PAGE"])
        results = search_groups(db.session, query)
        if query.q and not results.total:
            nearest = nearest_names(db.session, query.q)
    except QueryError as exc:
        error, query, results = exc, ServiceQuery(q=(request.args.get("q") or "")[:500]), None
    return render_template(
        "public/services.html",
        query=query,
        results=results,
        error=error,
        nearest=nearest,
        agencies=agency_service.agency_options(db.session),
        kinds=kinds(),
        healths=healths(),
        fields=fields(db.session),
    ), (400 if error else 200)


@bp.get("/services/pick")
def service_pick():
    """The province picker of a grouped result (a plain GET form, so it works without JavaScript)."""
    chosen = (request.args.get("service") or "").strip()
    if not chosen.isdigit() or len(chosen) > 9:
        return redirect(url_for("public.services"))
    return redirect(url_for("public.service_detail", service_id=int(chosen)))


@bp.get("/services/<int:service_id>")
@public_page
def service_detail(service_id: int):
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404)
    return render_template(
        "public/service.html",
        service=service,
        address=catalogue.service_address(service),
        evidence=availability.uptime_evidence(
            db.session, service, min_checks=current_app.config["PORTAL_EVIDENCE_MIN_CHECKS"],
            min_days=current_app.config["PORTAL_EVIDENCE_MIN_DAYS"]),
        days=availability.daily_availability(db.session, service),
        imported=registry.imported_counts(db.session, [service.id]).get(service.id),
        monitor_fault=sweeps.open_fault(db.session),
        **catalogue.service_history(db.session, service),
    )


@bp.get("/agencies")
@public_page
def agency_directory():
    include_former = request.args.get("former") == "1"
    agencies = agency_service.directory(db.session, include_former=include_former)
    counts = agency_service.counts_for_current_agencies(
        catalogue.active_service_counts(db.session), list(db.session.execute(select(Agency)).scalars()))
    return render_template(
        "public/agencies.html", agencies=agencies, counts=counts, include_former=include_former, kinds=kinds()
    )


@bp.get("/agencies/<code>")
@public_page
def agency_detail(code: str):
    agency = agency_service.get_by_code(db.session, code)
    if agency is None:
        abort(404)
    margin = current_app.config["PORTAL_FIGURES_MARGIN"]
    former = not agency.is_current()
    unit_ids = [] if former else agency_service.merged_unit_ids(db.session, agency)
    services = db.session.execute(
        select(Service).where(Service.agency_id.in_(unit_ids), Service.status == "active").order_by(Service.name_folded)
    ).scalars().all() if unit_ids else []
    figures_reported = agency_service.report_figures(db.session, agency)
    if former and agency.valid_to:
        figures_reported = [f for f in figures_reported if f.period[:4] < str(agency.valid_to.year + 1)]
    return render_template(
        "public/agency.html",
        agency=agency,
        services=services,
        summary=catalogue.agency_summary(services),
        former=former,
        today=availability.local_day(utcnow()),
        figures=figures_reported,
        predecessors=agency_service.predecessors(db.session, agency),
        application_figures=figures_compare.side_by_side(db.session, agency, margin=margin),
        application_margin=margin,
    )
