"""The JSON bodies of /api/v1, built here beside their OpenAPI description (openapi.py): a change to a response
and to its schema happen in the same package. The catalogue's, the rankings' and the compliance shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.models import AGENCY_KINDS, Agency, CatalogueEntry, Check, Service
from portal.services import figures_compare
from portal.services.availability import uptime_summary
from portal.services.catalogue import service_history
from portal.services.procedures import CatalogueInfo
from portal.services.ranking_choice import (
    CURRENT,
    DEFAULT_KIND,
    DEFAULT_METRIC,
    SOURCES,
    SUPPORTED,
    PeriodIndex,
    Selection,
    latest_reported,
    unsupported,
)
from portal.services.ranking_rules import METRICS, RankRow
from portal.services.rankings import Ranking


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# ---------------------------------------------------------------- catalogue

def agency_json(agency: Agency) -> dict[str, Any]:
    return {"code": agency.code, "name": agency.name, "kind": agency.kind, "portal_url": agency.portal_url}


def service_json(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "name": service.name,
        "agency": {"code": service.agency.code, "name": service.agency.name},
        "level": service.level,
        "field": service.field,
        "url": service.url,
        "health": service.health,
    }


def check_json(check: Check) -> dict[str, Any]:
    return {
        "checked_at": _iso(check.checked_at),
        "outcome": check.outcome,
        "reason": check.reason,
        "http_status": check.http_status,
        "elapsed_ms": check.elapsed_ms,
        "final_url": check.final_url,
    }


def service_detail_json(session: Session, service: Service) -> dict[str, Any]:
    history = service_history(session, service)
    return {
        **service_json(service),
        "status": service.status,
        "is_sample": service.is_sample,
        "procedure_code": service.procedure.code if service.procedure else None,
        "health_since": _iso(service.health_since),
        "last_checked_at": _iso(service.last_checked_at),
        "recent_checks": [check_json(c) for c in history["checks"]],
        "uptime": uptime_summary(session, service),
    }


# ---------------------------------------------------------------- rankings


def _json_value(metric: str, value: Any) -> Any:
    if value is None:
        return None
    if METRICS[metric].kind == "count":
        return int(value)
    return round(float(value), 6)


def _side_json(row: RankRow | None, selection: Selection) -> dict[str, Any]:
    return {
        "source": selection.source,
        "period": selection.period.key,
        "rank": row.rank if row else None,
        "value": _json_value(selection.metric, row.value) if row else None,
        "note": row.note if row else None,
    }


def ranking_json(result: Ranking) -> dict[str, Any]:
    """The body of GET /api/v1/rankings/<metric> (the API contract), with the counterpart and movement per item."""
    selection = result.selection
    spec = METRICS[selection.metric]
    other = result.counterpart
    other_rows = other.by_code() if other else {}
    items = []
    for row in result.rows:
        item: dict[str, Any] = {
            "rank": row.rank,
            "agency": {"code": row.agency_code, "name": row.agency_name},
            "value": _json_value(selection.metric, row.value),
            "note": row.note,
        }
        if spec.tiebreak is not None:
            item["services_l4"] = row.extra.get("services_l4")
        merged_from = row.extra.get("merged_from") or [row.agency_code]
        if merged_from != [row.agency_code]:
            item["merged_from"] = merged_from
        if row.extra.get("missing_parts"):
            item["missing_parts"] = row.extra["missing_parts"]
        if other is not None:
            item["counterpart"] = _side_json(other_rows.get(row.agency_code), other.selection)
            item["movement"] = result.movement(row.agency_code)
        items.append(item)
    extra: dict[str, Any] = {}
    if result.days is not None:
        extra["availability_days"] = {"first_day": result.days[0].isoformat(), "last_day": result.days[1].isoformat()}
    return {
        **extra,
        "metric": selection.metric,
        "kind": selection.kind,
        "period": selection.period.key,
        "source": selection.source,
        "label": {"vi": spec.label_vi, "en": spec.label_en},
        "value_type": spec.kind,
        "basis_period": (selection.basis or selection.period).key,
        "agencies_on": result.day.isoformat(),
        "total": len(items),
        "items": items,
        "merged": [
            {"agency": {"code": code, "name": result.names.get(code, code)},
             "from": [{"code": c, "name": result.names.get(c, c)} for c in parts]}
            for code, parts in result.merged()
        ],
        "left_out": [{"agency": {"code": code, "name": name}, "reason": reason}
                     for code, name, reason in result.left_out],
        "counterpart": None if other is None else {
            "source": other.selection.source,
            "period": other.selection.period.key,
            "basis_period": (other.selection.basis or other.selection.period).key,
        },
    }


def index_json(index: PeriodIndex) -> dict[str, Any]:
    """The body of GET /api/v1/rankings: metrics, kinds, sources and periods with what each offers."""
    periods = []
    for period in reversed(index.periods):
        available = {}
        for source in index.sources(period):
            metrics = [m for m in METRICS if unsupported(source, m, period, index) is None]
            if metrics:
                available[source] = metrics
        periods.append({
            "key": period.key,
            "type": period.kind,
            "first_day": period.first_day.isoformat(),
            "last_day": period.last_day.isoformat(),
            "metrics": available,
        })
    return {
        "metrics": [
            {"key": m.key, "label": {"vi": m.label_vi, "en": m.label_en}, "value_type": m.kind,
             "sources": [s for s in SOURCES if any(m.key in v for (src, _), v in SUPPORTED.items() if src == s)]}
            for m in METRICS.values()
        ],
        "kinds": list(AGENCY_KINDS),
        "sources": list(SOURCES),
        "periods": periods,
        "defaults": {"kind": DEFAULT_KIND, "metric": DEFAULT_METRIC, "verified": CURRENT,
                     "reported": getattr(latest_reported(index, DEFAULT_METRIC, DEFAULT_KIND), "key", None)},
    }


# ---------------------------------------------------------------- procedure catalogues and compliance


def catalogue_json(info: CatalogueInfo) -> dict[str, Any]:
    return {"name": info.name, "label": info.label, "entries": info.entries, "scopes": info.scopes,
            "is_sample": info.is_sample}


def catalogue_entry_json(entry: CatalogueEntry) -> dict[str, Any]:
    return {
        "code": entry.procedure.code, "name": entry.procedure.name, "field": entry.procedure.field,
        "scope": entry.scope, "required_level": entry.required_level,
        "agency": {"code": entry.agency.code, "name": entry.agency.name} if entry.agency else None,
        "is_sample": entry.is_sample,
    }


def counts_json(required: int, online: int, lower_level: int, missing: int) -> dict[str, Any]:
    return {"required": required, "online": online, "lower_level": lower_level, "missing": missing,
            "compliance": round(100.0 * online / required, 2) if required else None}


def compliance_row_json(row: RankRow) -> dict[str, Any]:
    return {
        "rank": row.rank, "agency": {"code": row.agency_code, "name": row.agency_name},
        **counts_json(row.extra["required"], row.extra["online"], row.extra["lower_level"], row.extra["missing"]),
        "note": row.note,
    }


def compliance_agency_json(info: CatalogueInfo, agency: Agency, standing: RankRow | None, summary: Any,
                           rows: list[Any]) -> dict[str, Any]:
    """GET /api/v1/compliance/<code>: one agency's standing and its required procedures, missing first."""
    return {
        "catalogue": catalogue_json(info),
        "agency": agency_json(agency),
        "rank": standing.rank if standing else None,
        "note": standing.note if standing else None,
        **counts_json(summary.required, summary.online, summary.lower_level, summary.missing),
        "procedures": [{
            "code": r.entry.procedure.code, "name": r.entry.procedure.name, "field": r.entry.procedure.field,
            "required_level": r.entry.required_level, "state": r.cell.state, "best_level": r.cell.best_level,
            "services": [{"id": s.id, "name": s.name, "level": s.level, "health": s.health, "url": s.url}
                         for s in r.services],
        } for r in rows],
    }


# ---------------------------------------------------------------- application figures


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value
def agency_figures_json(session: Session, agency: Agency, *, margin: float = 0.2) -> dict[str, Any]:
    """The body of GET /api/v1/agencies/<code>/figures."""
    return {
        "agency": {"code": agency.code, "name": agency.name},
        "margin": margin,
        "targets": {"level_3": figures_compare.TARGETS[3], "level_4": figures_compare.TARGETS[4]},
        "periods": jsonable(figures_compare.side_by_side(session, agency, margin=margin)),
    }
