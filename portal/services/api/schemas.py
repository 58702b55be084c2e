"""The schemas of /api/v1 responses and parameters, used by the OpenAPI document (openapi.py); each mirrors a body
built in shapes.py."""

from __future__ import annotations

from typing import Any

from portal.models import AGENCY_KINDS, HEALTH_STATES
from portal.services.importing import SCOPES
from portal.services.ranking_choice import SOURCES
from portal.services.ranking_rules import METRICS, NO_ACTIVE_SERVICE, NO_DATA, NO_ONLINE_APPLICATIONS, ZERO
from portal.services.rankings import NO_ONLINE_SERVICE, NOT_ENOUGH_DATA
from portal.vocabulary import OUTCOMES

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "param": {"type": "string"},
            },
        }
    },
}

AGENCY_REF = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}

SERVICE = {
    "type": "object",
    "required": ["id", "name", "agency", "level", "field", "url", "health"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "agency": AGENCY_REF,
        "level": {"type": "integer", "enum": [3, 4]},
        "field": {"type": ["string", "null"]},
        "url": {"type": "string"},
        "health": {"type": "string", "enum": list(HEALTH_STATES)},
    },
}

CHECK = {
    "type": "object",
    "properties": {
        "checked_at": {"type": "string", "format": "date-time"},
        "outcome": {"type": "string", "enum": list(OUTCOMES)},
        "reason": {"type": "string"},
        "http_status": {"type": ["integer", "null"]},
        "elapsed_ms": {"type": "integer"},
        "final_url": {"type": ["string", "null"]},
    },
}

SERVICE_DETAIL = {
    "type": "object",
    "required": [*SERVICE["required"], "procedure_code", "health_since", "recent_checks", "uptime"],
    "properties": {
        **SERVICE["properties"],
        "status": {"type": "string", "enum": ["active", "retired"]},
        "is_sample": {"type": "boolean"},
        "procedure_code": {"type": ["string", "null"]},
        "health_since": {"type": ["string", "null"], "format": "date-time"},
        "last_checked_at": {"type": ["string", "null"], "format": "date-time"},
        "recent_checks": {"type": "array", "items": CHECK},
        "uptime": {
            "type": "object",
            "additionalProperties": {"type": ["number", "null"]},
        },
        "reports": {
            "type": "object",
            "description": "Citizens' reports about the service: counts only (never what a reporter wrote)",
            "required": ["total", "open", "by_status"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "open": {"type": "integer", "minimum": 0},
                "by_status": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            },
        },
    },
}


NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}

LEVEL_FIGURES = {
    "type": "object",
    "required": ["level", "services", "new_services", "received", "online", "online_rate", "target", "meets_target"],
    "properties": {
        "level": {"type": "integer", "enum": [3, 4]},
        "services": {"type": "integer", "description": "Services at this level now"},
        "new_services": {"type": "integer", "description": "Services brought online at this level in the quarter"},
        "received": {"type": "integer", "description": "Applications received at this level, all channels"},
        "online": {"type": "integer", "description": "Of which received and handled online"},
        "online_rate": {**NUM, "description": "online / received, in percent (0–100)"},
        "target": {"type": "number", "description": "Target online rate in percent: 40 for level 3, 30 for level 4"},
        "meets_target": {"type": ["boolean", "null"]},
    },
}

REPORTED = {
    "type": ["object", "null"],
    "description": "The agency's own quarterly report (provenance `reported`); null when none was submitted",
    "required": ["received_total", "received_online", "online_rate", "levels", "submitted_at", "locked"],
    "properties": {
        "received_total": INT,
        "received_online": INT,
        "online_rate": {**NUM, "description": "Percent (0–100)"},
        "levels": {"type": "array", "items": LEVEL_FIGURES},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "locked": {"type": "boolean", "description": "The quarter is locked; the report can no longer change"},
    },
}

CRAWLED = {
    "type": ["object", "null"],
    "description": "The newest published snapshot of the agency's statistics page observed during the quarter "
                   "(provenance `crawled`; figures held for review are not shown); null when none",
    "required": ["received_total", "received_online", "resolved", "resolved_on_time", "online_rate",
                 "number_format", "observed_at", "source_url"],
    "properties": {
        "received_total": INT,
        "received_online": INT,
        "resolved": INT,
        "resolved_on_time": INT,
        "online_rate": {**NUM, "description": "Percent (0–100): as published, else received_online / received_total"},
        "number_format": {"type": ["string", "null"], "enum": ["vi", "en", None]},
        "observed_at": {"type": "string", "format": "date-time"},
        "source_url": {"type": ["string", "null"]},
        "evidence": {
            "type": ["object", "null"],
            "description": "Per figure, where on the page it was read: `where` (table n, row, column path, or the "
                           "sentence), `kind` (table, list, text, json, css, regex) and its details; null for a "
                           "figure not found, or for snapshots stored before evidence was kept",
            "additionalProperties": {"type": ["object", "null"]},
        },
    },
}

AGENCY_FIGURES = {
    "type": "object",
    "required": ["agency", "margin", "targets", "periods"],
    "properties": {
        "agency": AGENCY_REF,
        "margin": {"type": "number", "description": "PORTAL_FIGURES_MARGIN: relative difference above which "
                                                   "the two sources disagree (0.2 = 20 %)"},
        "targets": {
            "type": "object",
            "properties": {"level_3": {"type": "number"}, "level_4": {"type": "number"}},
            "description": "Target online rates in percent",
        },
        "periods": {
            "type": "array",
            "description": "One item per quarter (\"2026-Q3\"), newest first",
            "items": {
                "type": "object",
                "required": ["period", "reported", "crawled", "differences", "disagreement"],
                "properties": {
                    "period": {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$"},
                    "reported": REPORTED,
                    "crawled": CRAWLED,
                    "differences": {
                        "type": "object",
                        "description": "Relative difference |reported − crawled| / max(|reported|, |crawled|) "
                                       "per figure; null unless both sides have it",
                        "properties": {k: NUM for k in ("received_total", "received_online", "online_rate")},
                    },
                    "disagreement": {"type": "boolean", "description": "Some difference exceeds the margin"},
                },
            },
        },
    },
}


LABEL = {
    "type": "object",
    "required": ["vi", "en"],
    "properties": {"vi": {"type": "string"}, "en": {"type": "string"}},
}
VALUE_TYPE = {"type": "string", "enum": ["count", "share", "index", "hours"],
               "description": "count: a whole number; share: a fraction 0–1 (shown as a percentage); index: 0–1; "
                              "hours: a duration in hours (smaller ranks first)"}
RANK_NOTE = {
    "type": ["string", "null"],
    "enum": [None, NO_DATA, NO_ACTIVE_SERVICE, NO_ONLINE_APPLICATIONS, ZERO],
    "description": "Why the agency takes the last rank: no figure, no active service, none online, zero",
}
SIDE = {
    "type": "object",
    "required": ["source", "period", "rank", "value", "note"],
    "description": "The same agency in the other source's ranking of the period (nulls: not in that table)",
    "properties": {
        "source": {"type": "string", "enum": list(SOURCES)},
        "period": {"type": "string"},
        "rank": INT,
        "value": NUM,
        "note": RANK_NOTE,
    },
}
AGENCY_LIST = {"type": "array", "items": AGENCY_REF}

RANKING_ITEM = {
    "type": "object",
    "required": ["rank", "agency", "value", "note"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1,
                 "description": "Shared ranks skip (1, 2, 2, 4); zero or missing figures take the last rank n"},
        "agency": AGENCY_REF,
        "value": {**NUM, "description": "The metric's value (see value_type); null: no figure"},
        "note": RANK_NOTE,
        "services_l4": {**INT, "description": "services_total only: the level-4 count that breaks ties"},
        "merged_from": {"type": "array", "items": {"type": "string"},
                        "description": "Codes of every agency whose figures are summed into this one"},
        "missing_parts": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                          "description": "Per figure, merged agencies without it (the sum is then null)"},
        "counterpart": SIDE,
        "movement": {**INT, "description": "Rank under verified minus rank under reported (negative: higher "
                                            "on the portal's figures)"},
    },
}

RANKING = {
    "type": "object",
    "required": ["metric", "kind", "period", "source", "items", "label", "value_type", "basis_period",
                 "agencies_on", "total", "merged", "left_out", "counterpart"],
    "properties": {
        "metric": {"type": "string", "enum": list(METRICS)},
        "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
        "period": {"type": "string"},
        "source": {"type": "string", "enum": list(SOURCES)},
        "items": {"type": "array", "items": RANKING_ITEM, "description": "In rank order; ties in Vietnamese "
                                                                          "alphabetical order"},
        "label": LABEL,
        "value_type": VALUE_TYPE,
        "basis_period": {"type": "string", "description": "The period whose figures are ranked: the latest "
                                                          "report for source=reported&period=current"},
        "agencies_on": {"type": "string", "format": "date",
                        "description": "The agencies are those valid on this day (the period's last day)"},
        "total": {"type": "integer"},
        "availability_days": {
            "type": "object", "required": ["first_day", "last_day"],
            "description": "availability only: the whole days covered (30 days to yesterday for current)",
            "properties": {"first_day": {"type": "string", "format": "date"},
                           "last_day": {"type": "string", "format": "date"}},
        },
        "merged": {
            "type": "array",
            "description": "Agencies whose figures include merged (former) agencies",
            "items": {"type": "object", "required": ["agency", "from"],
                      "properties": {"agency": AGENCY_REF, "from": AGENCY_LIST}},
        },
        "left_out": {
            "type": "array",
            "description": "Agencies not in the table: ministries without any online service in the "
                           "applications rankings (as table 2.7 of the 2016 report), and in the availability "
                           "ranking agencies with fewer checks in the period than PORTAL_EVIDENCE_MIN_CHECKS",
            "items": {"type": "object", "required": ["agency", "reason"],
                      "properties": {"agency": AGENCY_REF, "reason": {"type": "string",
                                                                        "enum": [NO_ONLINE_SERVICE,
                                                                                 NOT_ENOUGH_DATA]}}},
        },
        "counterpart": {
            "type": ["object", "null"],
            "description": "The other source's ranking of the period that items are compared with; null if none",
            "required": ["source", "period", "basis_period"],
            "properties": {"source": {"type": "string", "enum": list(SOURCES)}, "period": {"type": "string"},
                           "basis_period": {"type": "string"}},
        },
    },
}

RANKING_INDEX = {
    "type": "object",
    "required": ["metrics", "kinds", "sources", "periods", "defaults"],
    "properties": {
        "metrics": {"type": "array", "items": {
            "type": "object", "required": ["key", "label", "value_type", "sources"],
            "properties": {"key": {"type": "string", "enum": list(METRICS)}, "label": LABEL,
                           "value_type": VALUE_TYPE,
                           "sources": {"type": "array", "items": {"type": "string", "enum": list(SOURCES)}}},
        }},
        "kinds": {"type": "array", "items": {"type": "string", "enum": list(AGENCY_KINDS)}},
        "sources": {"type": "array", "items": {"type": "string", "enum": list(SOURCES)}},
        "periods": {"type": "array", "description": "Newest first; `current` is the live period", "items": {
            "type": "object", "required": ["key", "type", "first_day", "last_day", "metrics"],
            "properties": {
                "key": {"type": "string"},
                "type": {"type": "string", "enum": ["year", "quarter", "current"]},
                "first_day": {"type": "string", "format": "date"},
                "last_day": {"type": "string", "format": "date"},
                "metrics": {"type": "object", "description": "Per source, the metrics ranked for the period",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }},
        "defaults": {"type": "object", "properties": {
            "kind": {"type": "string"}, "metric": {"type": "string"}, "verified": {"type": "string"},
            "reported": {"type": ["string", "null"]},
        }},
    },
}


def param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


def error_responses(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


CATALOGUE = {
    "type": "object",
    "required": ["name", "label", "entries", "scopes", "is_sample"],
    "properties": {
        "name": {"type": "string", "description": "Catalogue name, e.g. qd-846-2017 (Decision 846/QĐ-TTg)"},
        "label": {"type": "string", "description": "Title in Vietnamese"},
        "entries": {"type": "integer", "description": "Procedures listed, all scopes together"},
        "scopes": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": "Procedures listed per scope (ministry, province)"},
        "is_sample": {"type": "boolean", "description": "Sample data for illustration, not the official list"},
    },
}

COUNTS = {
    "required": {"type": "integer", "description": "Procedures the agency must offer online"},
    "online": {"type": "integer", "description": "Of which an active service is online at the required level or above"},
    "lower_level": {"type": "integer", "description": "Of which the best active service is below the required level"},
    "missing": {"type": "integer", "description": "Of which no active service exists"},
    "compliance": {"type": ["number", "null"], "description": "online / required, in percent (0–100)"},
}

COMPLIANCE = {
    "type": "object",
    "required": ["catalogue", "kind", "scope", "items", "total"],
    "properties": {
        "catalogue": {"$ref": "#/components/schemas/Catalogue"},
        "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
        "scope": {"type": "string", "enum": list(SCOPES), "description": "The catalogue scope this kind must offer"},
        "items": {
            "type": "array",
            "description": "Ranked by compliance, ties broken by the number online; tied agencies share a rank "
                           "(1, 2, 2, 4); agencies with nothing online at the required level come last "
                           "(note none_online); agencies the catalogue requires nothing of are left out",
            "items": {
                "type": "object",
                "required": ["rank", "agency", *COUNTS, "note"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 1},
                    "agency": AGENCY_REF,
                    **COUNTS,
                    "note": {"type": ["string", "null"], "enum": ["none_online", None]},
                },
            },
        },
        "total": {"type": "integer"},
    },
}

COMPLIANCE_AGENCY = {
    "type": "object",
    "required": ["catalogue", "agency", "rank", "note", *COUNTS, "procedures"],
    "properties": {
        "catalogue": {"$ref": "#/components/schemas/Catalogue"},
        "agency": {"$ref": "#/components/schemas/Agency"},
        "rank": {"type": ["integer", "null"], "description": "Rank among its kind; null when nothing is required"},
        "note": {"type": ["string", "null"], "enum": ["none_online", None]},
        **COUNTS,
        "procedures": {
            "type": "array",
            "description": "The required procedures: missing first, then below the required level, then online",
            "items": {
                "type": "object",
                "required": ["code", "name", "field", "required_level", "state", "best_level", "services"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                    "required_level": {"type": "integer", "enum": [3, 4]},
                    "state": {"type": "string", "enum": ["online", "lower_level", "missing"]},
                    "best_level": {"type": ["integer", "null"], "enum": [3, 4, None]},
                    "services": {
                        "type": "array",
                        "description": "Active services of the agency, its sub-units and predecessors for it",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "level", "health", "url"],
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string"},
                                "level": {"type": "integer", "enum": [3, 4]},
                                "health": {"type": "string", "enum": list(HEALTH_STATES)},
                                "url": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}

PROCEDURES = {
    "type": "object",
    "required": ["catalogue", "scope", "items", "total"],
    "properties": {
        "catalogue": {"$ref": "#/components/schemas/Catalogue"},
        "scope": {"type": ["string", "null"], "enum": [*SCOPES, None]},
        "items": {
            "type": "array",
            "description": "Entries by scope, then field (Vietnamese order), then code",
            "items": {
                "type": "object",
                "required": ["code", "name", "field", "scope", "required_level", "agency", "is_sample"],
                "properties": {
                    "code": {"type": "string", "description": "National procedure code, e.g. 1.000178"},
                    "name": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                    "scope": {"type": "string", "enum": list(SCOPES)},
                    "required_level": {"type": "integer", "enum": [3, 4]},
                    "agency": {**AGENCY_REF, "type": ["object", "null"],
                               "description": "The one agency responsible; null: every agency of the scope"},
                    "is_sample": {"type": "boolean"},
                },
            },
        },
        "total": {"type": "integer"},
    },
}

CATALOGUE_PARAM = param(
    "catalogue", {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,79}$"},
    "Catalogue name; default qd-846-2017 (Decision 846/QĐ-TTg) when imported, else the sample catalogue. "
    "400 when malformed, 404 when unknown",
)


def ok_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
