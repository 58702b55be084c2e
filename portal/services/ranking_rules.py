"""Rankings of agencies by a metric, reproducing the MIC report's tables (tie rules in docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from portal.text import vietnamese_sort_key as _vn_key

Number = int | float | Decimal

NO_DATA = "no_data"
NO_ACTIVE_SERVICE = "no_active_service"
NO_ONLINE_APPLICATIONS = "no_online_applications"
ZERO = "zero"


@dataclass
class RankRow:
    agency_code: str
    agency_name: str
    value: Number | None
    tiebreak: Number | None = None
    rank: int | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _is_unranked(value: Number | None, descending: bool) -> bool:
    return value is None or (descending and value == 0)


def rank_rows(
    rows: Iterable[RankRow],
    *,
    descending: bool = True,
    tiebreak: bool = True,
    zero_note: str = NO_ACTIVE_SERVICE,
) -> list[RankRow]:
    """Rank rows as the official tables do; returns new rows in display order.

    Order by value, then (if `tiebreak`) by the tiebreak value, the same way; rows equal on both share a
    rank and the next rank skips (1, 2, 2, 4). Rows with a missing value, or a zero value when ranking
    in descending order, all take the last rank n (n = number of rows) with note `no_data` /
    `zero_note`. Rows sharing a rank are listed in Vietnamese alphabetical order of their names.
    """
    rows = list(rows)
    n = len(rows)
    sign = -1 if descending else 1

    def tb(row: RankRow) -> Number:
        if not tiebreak or row.tiebreak is None:
            return 0
        return sign * row.tiebreak

    ranked = [r for r in rows if not _is_unranked(r.value, descending)]
    ranked.sort(key=lambda r: (sign * r.value, tb(r), _vn_key(r.agency_name)))  # type: ignore[operator]
    out: list[RankRow] = []
    previous: tuple[Number, Number] | None = None
    rank = 0
    for position, row in enumerate(ranked, start=1):
        standing = (row.value, tb(row))
        if standing != previous:
            rank = position
            previous = standing  # type: ignore[assignment]
        out.append(replace(row, rank=rank, note=None, extra=dict(row.extra)))
    unranked = sorted(
        (r for r in rows if _is_unranked(r.value, descending)), key=lambda r: _vn_key(r.agency_name)
    )
    for row in unranked:
        note = NO_DATA if row.value is None else zero_note
        out.append(replace(row, rank=n, note=note, extra=dict(row.extra)))
    return out


def parse_figure(raw: object) -> Number | None:
    """A report cell as a number: '' / None → None, '627702' → 627702, '0.942' → 0.942."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not a figure: {raw!r}")
    if isinstance(raw, int | float | Decimal):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def _sum_strict(*values: Number | None) -> Number | None:
    if any(v is None for v in values):
        return None
    return sum(values)  # type: ignore[arg-type]


def _online_rate(row: Mapping[str, Any]) -> Number | None:
    rate = parse_figure(row.get("online_rate"))
    if rate is not None:
        return rate
    online = parse_figure(row.get("received_online"))
    total = parse_figure(row.get("received_total"))
    if online is None or not total:
        return None
    return online / total


@dataclass(frozen=True)
class Metric:
    key: str
    label_vi: str
    label_en: str
    unit_vi: str
    unit_en: str
    kind: str  # "count", "share" (0–1, shown as a percentage) or "index" (0–1)
    decimals: int
    value: Callable[[Mapping[str, Any]], Number | None]
    tiebreak: Callable[[Mapping[str, Any]], Number | None] | None = None
    tiebreak_label_en: str | None = None
    zero_note: str = ZERO
    descending: bool = True  # False: the smaller value ranks first (a time to reply)


def _column(name: str) -> Callable[[Mapping[str, Any]], Number | None]:
    def get(row: Mapping[str, Any]) -> Number | None:
        return parse_figure(row.get(name))

    get.__name__ = f"column_{name}"
    return get


def _services_total(row: Mapping[str, Any]) -> Number | None:
    return _sum_strict(parse_figure(row.get("services_l3")), parse_figure(row.get("services_l4")))


def _index(key: str, label_vi: str, label_en: str) -> Metric:
    return Metric(key, label_vi, label_en, "chỉ số", "index", "index", 3, _column(key))


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "services_total",
            "Số dịch vụ công trực tuyến mức độ 3, 4",
            "Online public services at level 3 or 4",
            "dịch vụ",
            "services",
            "count",
            0,
            _services_total,
            tiebreak=_column("services_l4"),
            tiebreak_label_en="level-4 services",
            zero_note=NO_ACTIVE_SERVICE,
        ),
        Metric(
            "services_l3",
            "Số dịch vụ công trực tuyến mức độ 3",
            "Online public services at level 3",
            "dịch vụ",
            "services",
            "count",
            0,
            _column("services_l3"),
            zero_note=NO_ACTIVE_SERVICE,
        ),
        Metric(
            "services_l4",
            "Số dịch vụ công trực tuyến mức độ 4",
            "Online public services at level 4",
            "dịch vụ",
            "services",
            "count",
            0,
            _column("services_l4"),
            zero_note=NO_ACTIVE_SERVICE,
        ),
        Metric(
            "online_applications",
            "Số hồ sơ được giải quyết trực tuyến",
            "Applications handled online",
            "hồ sơ",
            "applications",
            "count",
            0,
            _column("online_applications"),
            zero_note=NO_ONLINE_APPLICATIONS,
        ),
        Metric(
            "online_rate",
            "Tỷ lệ hồ sơ trực tuyến",
            "Share of applications made online",
            "%",
            "%",
            "share",
            1,
            _online_rate,
        ),
        Metric(
            "availability",
            "Tỷ lệ thời gian dịch vụ hoạt động",
            "Availability of services",
            "%",
            "%",
            "share",
            1,
            _column("availability"),
        ),
        Metric(
            "working_share",
            "Tỷ lệ dịch vụ đang hoạt động",
            "Share of services working now",
            "%",
            "%",
            "share",
            1,
            _column("working_share"),
        ),
        Metric(
            "reply_hours",
            "Thời gian trả lời phản ánh của người dân (trung vị)",
            "Time to reply to citizens' reports (median)",
            "giờ",
            "hours",
            "hours",
            1,
            _column("reply_hours"),
            descending=False,
        ),
        _index("it_infrastructure_index", "Chỉ số Hạ tầng kỹ thuật CNTT", "IT infrastructure index"),
        _index("it_internal_index", "Chỉ số Ứng dụng CNTT trong hoạt động nội bộ", "Internal IT use index"),
        _index("website_index", "Chỉ số Trang/Cổng thông tin điện tử", "Web portal index"),
        _index("it_policy_index", "Chỉ số Cơ chế, chính sách cho ứng dụng CNTT", "IT policy index"),
        _index("it_hr_index", "Chỉ số Nguồn nhân lực cho ứng dụng CNTT", "IT human resources index"),
    )
}

_ROW_FIELDS = ("services_l3", "services_l4", "online_applications")


def ranking_from_report(rows: Iterable[Mapping[str, Any]], metric: str) -> list[RankRow]:
    """Rank report rows (report_2016.csv columns plus `name`, optionally `kind`) by `metric`.

    Every row given is in the table; leave out agencies that were not evaluated for the period.
    """
    try:
        spec = METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRICS)}") from None
    rank_input = []
    for row in rows:
        extra = {k: parse_figure(row.get(k)) for k in _ROW_FIELDS if k in row}
        for k in ("kind", "merged_from", "missing_parts"):
            if k in row:
                extra[k] = row[k]
        rank_input.append(
            RankRow(
                agency_code=str(row["code"]),
                agency_name=str(row.get("name") or row["code"]),
                value=spec.value(row),
                tiebreak=spec.tiebreak(row) if spec.tiebreak else None,
                extra=extra,
            )
        )
    return rank_rows(rank_input, descending=spec.descending, tiebreak=spec.tiebreak is not None,
                     zero_note=spec.zero_note)


SUMMABLE = ("services_l3", "services_l4", "online_applications", "received_total", "received_online")


def successor_map_from_rows(rows: Iterable[Mapping[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """From reorganisation_2025.csv rows: ({old_code: successor_code}, {successor_code: successor_name})."""
    successors: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in rows:
        successors[row["old_code"]] = row["successor_code"]
        names[row["successor_code"]] = row["successor_name"]
    return successors, names


def apply_successors(
    rows: Iterable[Mapping[str, Any]],
    successor_map: Mapping[str, str],
    *,
    successor_names: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Fold merged agencies' figures into their successors.

    Counts (`SUMMABLE` columns) are added up; a sum with a missing part is missing (the part is listed
    in the row's `missing_parts`), so a merged agency is never ranked on half its figures. Other
    figures (indices, rates) of an agency formed by a merger are unknown and left empty; an agency
    that only continues keeps them. Returns the new rows (with `merged_from` listing every
    predecessor code) and {successor_code: [codes merged into it, other than itself]}.
    """
    names = successor_names or {}
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        code = str(row["code"])
        groups.setdefault(successor_map.get(code, code), []).append(row)
    out: list[dict[str, Any]] = []
    merges: dict[str, list[str]] = {}
    for code, parts in groups.items():
        part_codes = [str(p["code"]) for p in parts]
        own = next((p for p in parts if p["code"] == code), None)
        merged: dict[str, Any]
        if len(parts) == 1 and own is not None:
            merged = dict(own)
        else:
            merged = {k: None for p in parts for k in p}
            for k in ("year", "kind"):
                if k in parts[0]:
                    merged[k] = parts[0][k]
            missing: dict[str, list[str]] = {}
            for k in SUMMABLE:
                if not any(k in p for p in parts):
                    continue
                values = {str(p["code"]): parse_figure(p.get(k)) for p in parts}
                lacking = [c for c, v in values.items() if v is None]
                if lacking:
                    if len(lacking) < len(values):
                        missing[k] = lacking
                    merged[k] = None
                else:
                    merged[k] = sum(values.values())  # type: ignore[arg-type]
            merged["missing_parts"] = missing
            others = [c for c in part_codes if c != code]
            if others:
                merges[code] = sorted(others)
        merged["code"] = code
        merged["name"] = names.get(code) or (own.get("name") if own else None) or code
        merged["merged_from"] = sorted(part_codes)
        out.append(merged)
    return out, merges
