"""The OpenAPI 3.1 description of /api/v1."""

from __future__ import annotations

from typing import Any

from portal.models import AGENCY_KINDS, HEALTH_STATES
from portal.services.importing import SCOPES
from portal.services.ranking_choice import SOURCES
from portal.services.ranking_rules import METRICS, NO_ACTIVE_SERVICE, NO_DATA, NO_ONLINE_APPLICATIONS, ZERO
from portal.services.rankings import NO_ONLINE_SERVICE, NOT_ENOUGH_DATA
from portal.vocabulary import OUTCOMES

_ERROR = {
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

_AGENCY_REF = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}

_SERVICE = {
    "type": "object",
    "required": ["id", "name", "agency", "level", "field", "url", "health"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "agency": _AGENCY_REF,
        "level": {"type": "integer", "enum": [3, 4]},
        "field": {"type": ["string", "null"]},
        "url": {"type": "string"},
        "health": {"type": "string", "enum": list(HEALTH_STATES)},
    },
}

_CHECK = {
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

_SERVICE_DETAIL = {
    "type": "object",
    "required": [*_SERVICE["required"], "procedure_code", "health_since", "recent_checks", "uptime"],
    "properties": {
        **_SERVICE["properties"],
        "status": {"type": "string", "enum": ["active", "retired"]},
        "is_sample": {"type": "boolean"},
        "procedure_code": {"type": ["string", "null"]},
        "health_since": {"type": ["string", "null"], "format": "date-time"},
        "last_checked_at": {"type": ["string", "null"], "format": "date-time"},
        "recent_checks": {"type": "array", "items": _CHECK},
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


_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}

_LEVEL_FIGURES = {
    "type": "object",
    "required": ["level", "services", "new_services", "received", "online", "online_rate", "target", "meets_target"],
    "properties": {
        "level": {"type": "integer", "enum": [3, 4]},
        "services": {"type": "integer", "description": "Services at this level now"},
        "new_services": {"type": "integer", "description": "Services brought online at this level in the quarter"},
        "received": {"type": "integer", "description": "Applications received at this level, all channels"},
        "online": {"type": "integer", "description": "Of which received and handled online"},
        "online_rate": {**_NUM, "description": "online / received, in percent (0–100)"},
        "target": {"type": "number", "description": "Target online rate in percent: 40 for level 3, 30 for level 4"},
        "meets_target": {"type": ["boolean", "null"]},
    },
}

_REPORTED = {
    "type": ["object", "null"],
    "description": "The agency's own quarterly report (provenance `reported`); null when none was submitted",
    "required": ["received_total", "received_online", "online_rate", "levels", "submitted_at", "locked"],
    "properties": {
        "received_total": _INT,
        "received_online": _INT,
        "online_rate": {**_NUM, "description": "Percent (0–100)"},
        "levels": {"type": "array", "items": _LEVEL_FIGURES},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "locked": {"type": "boolean", "description": "The quarter is locked; the report can no longer change"},
    },
}

_CRAWLED = {
    "type": ["object", "null"],
    "description": "The newest published snapshot of the agency's statistics page observed during the quarter "
                   "(provenance `crawled`; figures held for review are not shown); null when none",
    "required": ["received_total", "received_online", "resolved", "resolved_on_time", "online_rate",
                 "number_format", "observed_at", "source_url"],
    "properties": {
        "received_total": _INT,
        "received_online": _INT,
        "resolved": _INT,
        "resolved_on_time": _INT,
        "online_rate": {**_NUM, "description": "Percent (0–100): as published, else received_online / received_total"},
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

_AGENCY_FIGURES = {
    "type": "object",
    "required": ["agency", "margin", "targets", "periods"],
    "properties": {
        "agency": _AGENCY_REF,
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
                    "reported": _REPORTED,
                    "crawled": _CRAWLED,
                    "differences": {
                        "type": "object",
                        "description": "Relative difference |reported − crawled| / max(|reported|, |crawled|) "
                                       "per figure; null unless both sides have it",
                        "properties": {k: _NUM for k in ("received_total", "received_online", "online_rate")},
                    },
                    "disagreement": {"type": "boolean", "description": "Some difference exceeds the margin"},
                },
            },
        },
    },
}


_LABEL = {
    "type": "object",
    "required": ["vi", "en"],
    "properties": {"vi": {"type": "string"}, "en": {"type": "string"}},
}
_VALUE_TYPE = {"type": "string", "enum": ["count", "share", "index", "hours"],
               "description": "count: a whole number; share: a fraction 0–1 (shown as a percentage); index: 0–1; "
                              "hours: a duration in hours (smaller ranks first)"}
_RANK_NOTE = {
    "type": ["string", "null"],
    "enum": [None, NO_DATA, NO_ACTIVE_SERVICE, NO_ONLINE_APPLICATIONS, ZERO],
    "description": "Why the agency takes the last rank: no figure, no active service, none online, zero",
}
_SIDE = {
    "type": "object",
    "required": ["source", "period", "rank", "value", "note"],
    "description": "The same agency in the other source's ranking of the period (nulls: not in that table)",
    "properties": {
        "source": {"type": "string", "enum": list(SOURCES)},
        "period": {"type": "string"},
        "rank": _INT,
        "value": _NUM,
        "note": _RANK_NOTE,
    },
}
_AGENCY_LIST = {"type": "array", "items": _AGENCY_REF}

_RANKING_ITEM = {
    "type": "object",
    "required": ["rank", "agency", "value", "note"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1,
                 "description": "Shared ranks skip (1, 2, 2, 4); zero or missing figures take the last rank n"},
        "agency": _AGENCY_REF,
        "value": {**_NUM, "description": "The metric's value (see value_type); null: no figure"},
        "note": _RANK_NOTE,
        "services_l4": {**_INT, "description": "services_total only: the level-4 count that breaks ties"},
        "merged_from": {"type": "array", "items": {"type": "string"},
                        "description": "Codes of every agency whose figures are summed into this one"},
        "missing_parts": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                          "description": "Per figure, merged agencies without it (the sum is then null)"},
        "counterpart": _SIDE,
        "movement": {**_INT, "description": "Rank under verified minus rank under reported (negative: higher "
                                            "on the portal's figures)"},
    },
}

_RANKING = {
    "type": "object",
    "required": ["metric", "kind", "period", "source", "items", "label", "value_type", "basis_period",
                 "agencies_on", "total", "merged", "left_out", "counterpart"],
    "properties": {
        "metric": {"type": "string", "enum": list(METRICS)},
        "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
        "period": {"type": "string"},
        "source": {"type": "string", "enum": list(SOURCES)},
        "items": {"type": "array", "items": _RANKING_ITEM, "description": "In rank order; ties in Vietnamese "
                                                                          "alphabetical order"},
        "label": _LABEL,
        "value_type": _VALUE_TYPE,
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
                      "properties": {"agency": _AGENCY_REF, "from": _AGENCY_LIST}},
        },
        "left_out": {
            "type": "array",
            "description": "Agencies not in the table: ministries without any online service in the "
                           "applications rankings (as table 2.7 of the 2016 report), and in the availability "
                           "ranking agencies with fewer checks in the period than PORTAL_EVIDENCE_MIN_CHECKS",
            "items": {"type": "object", "required": ["agency", "reason"],
                      "properties": {"agency": _AGENCY_REF, "reason": {"type": "string",
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

_RANKING_INDEX = {
    "type": "object",
    "required": ["metrics", "kinds", "sources", "periods", "defaults"],
    "properties": {
        "metrics": {"type": "array", "items": {
            "type": "object", "required": ["key", "label", "value_type", "sources"],
            "properties": {"key": {"type": "string", "enum": list(METRICS)}, "label": _LABEL,
                           "value_type": _VALUE_TYPE,
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


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


_CATALOGUE = {
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

_COUNTS = {
    "required": {"type": "integer", "description": "Procedures the agency must offer online"},
    "online": {"type": "integer", "description": "Of which an active service is online at the required level or above"},
    "lower_level": {"type": "integer", "description": "Of which the best active service is below the required level"},
    "missing": {"type": "integer", "description": "Of which no active service exists"},
    "compliance": {"type": ["number", "null"], "description": "online / required, in percent (0–100)"},
}

_COMPLIANCE = {
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
                "required": ["rank", "agency", *_COUNTS, "note"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 1},
                    "agency": _AGENCY_REF,
                    **_COUNTS,
                    "note": {"type": ["string", "null"], "enum": ["none_online", None]},
                },
            },
        },
        "total": {"type": "integer"},
    },
}

_COMPLIANCE_AGENCY = {
    "type": "object",
    "required": ["catalogue", "agency", "rank", "note", *_COUNTS, "procedures"],
    "properties": {
        "catalogue": {"$ref": "#/components/schemas/Catalogue"},
        "agency": {"$ref": "#/components/schemas/Agency"},
        "rank": {"type": ["integer", "null"], "description": "Rank among its kind; null when nothing is required"},
        "note": {"type": ["string", "null"], "enum": ["none_online", None]},
        **_COUNTS,
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

_PROCEDURES = {
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
                    "agency": {**_AGENCY_REF, "type": ["object", "null"],
                               "description": "The one agency responsible; null: every agency of the scope"},
                    "is_sample": {"type": "boolean"},
                },
            },
        },
        "total": {"type": "integer"},
    },
}

_CATALOGUE_PARAM = _param(
    "catalogue", {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,79}$"},
    "Catalogue name; default qd-846-2017 (Decision 846/QĐ-TTg) when imported, else the sample catalogue. "
    "400 when malformed, 404 when unknown",
)


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SERVICE_FILTERS = [
    _param("q", {"type": "string"}, "Search text; diacritics, case and đ are ignored"),
    _param("agency", {"type": "string"}, "Agency code; includes its sub-units"),
    _param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind"),
    _param("level", {"type": "integer", "enum": [3, 4]}, "Service level"),
    _param("field", {"type": "string"}, "Field (lĩnh vực), exact"),
    _param("health", {"type": "string", "enum": list(HEALTH_STATES)}, "Health now"),
]

PATHS: dict[str, Any] = {
    "/api/v1/agencies": {
        "get": {
            "summary": "Agencies, unpaged (today's agencies unless include_former)",
            "operationId": "listAgencies",
            "parameters": [
                _param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind"),
                _param("include_former", {"type": "string", "enum": ["0", "1", "true", "false"]},
                       "Also list agencies that no longer exist (merged)"),
            ],
            "responses": {
                "200": {
                    "description": "Agencies in Vietnamese alphabetical order within each kind",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["items", "total"],
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"}},
                            "total": {"type": "integer"},
                        },
                    }}},
                },
                **_errors(400),
            },
        }
    },
    "/api/v1/agencies/{code}/figures": {
        "get": {
            "summary": "Application figures per quarter: reported and crawled side by side, never merged",
            "operationId": "getAgencyFigures",
            "parameters": [_param("code", {"type": "string"}, "Agency code", "path")],
            "responses": {
                "200": {
                    "description": "Reported vs crawled figures, online rate vs targets, disagreement flag",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgencyFigures"}}},
                },
                **_errors(404),
            },
        }
    },
    "/api/v1/services": {
        "get": {
            "summary": "Search services",
            "operationId": "searchServices",
            "parameters": [
                *SERVICE_FILTERS,
                _param("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page number"),
                _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page"),
            ],
            "responses": {
                "200": {
                    "description": "One page of services, best matches first",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["items", "total", "page", "per_page"],
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
                            "total": {"type": "integer"},
                            "page": {"type": "integer"},
                            "per_page": {"type": "integer"},
                        },
                    }}},
                },
                **_errors(400),
            },
        }
    },
    "/api/v1/services/{id}": {
        "get": {
            "summary": "One service with its recent checks and uptime",
            "operationId": "getService",
            "parameters": [_param("id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "Service id",
                                  "path")],
            "responses": {
                "200": {
                    "description": "The service",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceDetail"}}},
                },
                **_errors(404),
            },
        }
    },
    "/api/v1/catalogues": {
        "get": {
            "summary": "Procedure catalogues (such as Decision 846/QĐ-TTg), unpaged",
            "operationId": "listCatalogues",
            "responses": {
                "200": _ok("Catalogues, the official Decision 846 list first", {
                    "type": "object",
                    "required": ["items", "total"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Catalogue"}},
                        "total": {"type": "integer"},
                    },
                }),
            },
        }
    },
    "/api/v1/procedures": {
        "get": {
            "summary": "The procedures of a catalogue with their required level, unpaged",
            "operationId": "listProcedures",
            "parameters": [
                _CATALOGUE_PARAM,
                _param("scope", {"type": "string", "enum": list(SCOPES)},
                       "ministry: required of ministries and government agencies; province: of every province"),
            ],
            "responses": {
                "200": _ok("Catalogue entries", {"$ref": "#/components/schemas/Procedures"}),
                **_errors(400, 404),
            },
        }
    },
    "/api/v1/compliance": {
        "get": {
            "summary": "Compliance ranking: share of required procedures online at the required level",
            "operationId": "getCompliance",
            "parameters": [
                _CATALOGUE_PARAM,
                _param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind; default province"),
            ],
            "responses": {
                "200": _ok("Today's agencies of the kind, ranked", {"$ref": "#/components/schemas/Compliance"}),
                **_errors(400, 404),
            },
        }
    },
    "/api/v1/compliance/{code}": {
        "get": {
            "summary": "One agency's required procedures: which are online, below the required level or missing",
            "operationId": "getAgencyCompliance",
            "parameters": [
                _param("code", {"type": "string"}, "Code of a current top-level agency", "path"),
                _CATALOGUE_PARAM,
            ],
            "responses": {
                "200": _ok("The agency's compliance", {"$ref": "#/components/schemas/ComplianceAgency"}),
                **_errors(400, 404),
            },
        }
    },
    "/api/v1/rankings": {
        "get": {
            "summary": "What can be ranked: metrics, agency kinds, sources and the periods with figures",
            "operationId": "listRankings",
            "responses": {
                "200": {
                    "description": "Metrics, kinds, sources, periods (with the metrics of each source) and defaults",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RankingIndex"}}},
                },
            },
        }
    },
    "/api/v1/rankings/{metric}": {
        "get": {
            "summary": "Agencies of one kind ranked by a metric for a period, from reported or verified figures",
            "description": "Ties follow the official tables: by value, then (service counts) by the level-4 "
                           "count; agencies still tied share a rank and the next rank skips; zero or missing "
                           "figures come last with rank n and a note. The agencies are those valid in the "
                           "period; merged agencies are summed into their successor. Each item also carries "
                           "the other source's rank and value for the same period and the movement between "
                           "them, when that source has the metric for the period.",
            "operationId": "getRanking",
            "parameters": [
                _param("metric", {"type": "string", "enum": list(METRICS)}, "What to rank by", "path"),
                _param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind (default: ministry)"),
                _param("source", {"type": "string", "enum": list(SOURCES)},
                       "reported: official or submitted figures; verified: what the portal observed. Default: "
                       "verified, or reported for the report indices (or whichever has the given period)"),
                _param("period", {"type": "string", "maxLength": 40},
                       "A report year (\"2016\"), a quarter (\"2026-Q3\") or \"current\" (see /api/v1/rankings). "
                       "Default: the latest report period for reported, current for verified"),
            ],
            "responses": {
                "200": {
                    "description": "The ranking, in rank order",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ranking"}}},
                },
                **_errors(400, 404),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This description",
            "operationId": "openapi",
            "responses": {"200": {"description": "OpenAPI document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }
    },
}

PATHS["/api/v1/services"]["get"]["parameters"].append(_param(
    "exact", {"type": "string", "enum": ["0", "1", "true", "false"]},
    "Search the words exactly as typed: no synonyms, typo correction or partial matches"))
PATHS["/api/v1/suggest"] = {
    "get": {
        "summary": "Service names for the search box as the citizen types (synonyms, typos and partial matches "
                   "understood as in search)",
        "operationId": "suggest",
        "parameters": [_param("q", {"type": "string", "maxLength": 500}, "What has been typed so far")],
        "responses": {
            "200": _ok("At most 8 names, best first, each with how many active services bear it", {
                "type": "object",
                "required": ["q", "items", "searched_for"],
                "properties": {
                    "q": {"type": "string"},
                    "searched_for": {"type": ["string", "null"],
                                     "description": "The query as understood, when it was corrected"},
                    "items": {"type": "array", "items": {
                        "type": "object",
                        "required": ["name", "services", "url"],
                        "properties": {"name": {"type": "string"}, "services": {"type": "integer"},
                                       "url": {"type": "string"}},
                    }},
                },
            }),
            **_errors(400),
        },
    }
}

SCHEMAS: dict[str, Any] = {
    "Error": _ERROR,
    "Agency": {
        "type": "object",
        "required": ["code", "name", "kind", "portal_url"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
            "portal_url": {"type": ["string", "null"]},
        },
    },
    "Service": _SERVICE,
    "ServiceDetail": _SERVICE_DETAIL,
    "AgencyFigures": _AGENCY_FIGURES,
    "Catalogue": _CATALOGUE,
    "Procedures": _PROCEDURES,
    "Compliance": _COMPLIANCE,
    "ComplianceAgency": _COMPLIANCE_AGENCY,
    "Ranking": _RANKING,
    "RankingIndex": _RANKING_INDEX,
}


def openapi_document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cổng dịch vụ công — open data API",
            "version": "1.0.0",
            "description": "Read-only, public. Errors are JSON: {\"error\": {\"code\", \"message\"}}.",
        },
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
