"""The OpenAPI 3.1 description of /api/v1."""

from __future__ import annotations

from typing import Any

from portal.models import AGENCY_KINDS, HEALTH_STATES
from portal.services.api.schemas import (
    AGENCY_FIGURES,
    CATALOGUE,
    CATALOGUE_PARAM,
    COMPLIANCE,
    COMPLIANCE_AGENCY,
    ERROR,
    PROCEDURES,
    RANKING,
    RANKING_INDEX,
    SERVICE,
    SERVICE_DETAIL,
    error_responses,
    ok_response,
    param,
)
from portal.services.importing import SCOPES
from portal.services.ranking_choice import SOURCES
from portal.services.ranking_rules import METRICS

SERVICE_FILTERS = [
    param("q", {"type": "string"}, "Search text; diacritics, case and đ are ignored"),
    param("agency", {"type": "string"}, "Agency code; includes its sub-units"),
    param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind"),
    param("level", {"type": "integer", "enum": [3, 4]}, "Service level"),
    param("field", {"type": "string"}, "Field (lĩnh vực), exact"),
    param("health", {"type": "string", "enum": list(HEALTH_STATES)}, "Health now"),
]

PATHS: dict[str, Any] = {
    "/api/v1/agencies": {
        "get": {
            "summary": "Agencies, unpaged (today's agencies unless include_former)",
            "operationId": "listAgencies",
            "parameters": [
                param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind"),
                param("include_former", {"type": "string", "enum": ["0", "1", "true", "false"]},
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
                **error_responses(400),
            },
        }
    },
    "/api/v1/agencies/{code}/figures": {
        "get": {
            "summary": "Application figures per quarter: reported and crawled side by side, never merged",
            "operationId": "getAgencyFigures",
            "parameters": [param("code", {"type": "string"}, "Agency code", "path")],
            "responses": {
                "200": {
                    "description": "Reported vs crawled figures, online rate vs targets, disagreement flag",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgencyFigures"}}},
                },
                **error_responses(404),
            },
        }
    },
    "/api/v1/services": {
        "get": {
            "summary": "Search services",
            "operationId": "searchServices",
            "parameters": [
                *SERVICE_FILTERS,
                param("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page number"),
                param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page"),
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
                **error_responses(400),
            },
        }
    },
    "/api/v1/services/{id}": {
        "get": {
            "summary": "One service with its recent checks and uptime",
            "operationId": "getService",
            "parameters": [param("id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "Service id",
                                  "path")],
            "responses": {
                "200": {
                    "description": "The service",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceDetail"}}},
                },
                **error_responses(404),
            },
        }
    },
    "/api/v1/catalogues": {
        "get": {
            "summary": "Procedure catalogues (such as Decision 846/QĐ-TTg), unpaged",
            "operationId": "listCatalogues",
            "responses": {
                "200": ok_response("Catalogues, the official Decision 846 list first", {
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
                CATALOGUE_PARAM,
                param("scope", {"type": "string", "enum": list(SCOPES)},
                       "ministry: required of ministries and government agencies; province: of every province"),
            ],
            "responses": {
                "200": ok_response("Catalogue entries", {"$ref": "#/components/schemas/Procedures"}),
                **error_responses(400, 404),
            },
        }
    },
    "/api/v1/compliance": {
        "get": {
            "summary": "Compliance ranking: share of required procedures online at the required level",
            "operationId": "getCompliance",
            "parameters": [
                CATALOGUE_PARAM,
                param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind; default province"),
            ],
            "responses": {
                "200": ok_response("Today's agencies of the kind, ranked", {"$ref": "#/components/schemas/Compliance"}),
                **error_responses(400, 404),
            },
        }
    },
    "/api/v1/compliance/{code}": {
        "get": {
            "summary": "One agency's required procedures: which are online, below the required level or missing",
            "operationId": "getAgencyCompliance",
            "parameters": [
                param("code", {"type": "string"}, "Code of a current top-level agency", "path"),
                CATALOGUE_PARAM,
            ],
            "responses": {
                "200": ok_response("The agency's compliance", {"$ref": "#/components/schemas/ComplianceAgency"}),
                **error_responses(400, 404),
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
                param("metric", {"type": "string", "enum": list(METRICS)}, "What to rank by", "path"),
                param("kind", {"type": "string", "enum": list(AGENCY_KINDS)}, "Agency kind (default: ministry)"),
                param("source", {"type": "string", "enum": list(SOURCES)},
                       "reported: official or submitted figures; verified: what the portal observed. Default: "
                       "verified, or reported for the report indices (or whichever has the given period)"),
                param("period", {"type": "string", "maxLength": 40},
                       "A report year (\"2016\"), a quarter (\"2026-Q3\") or \"current\" (see /api/v1/rankings). "
                       "Default: the latest report period for reported, current for verified"),
            ],
            "responses": {
                "200": {
                    "description": "The ranking, in rank order",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ranking"}}},
                },
                **error_responses(400, 404),
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

PATHS["/api/v1/services"]["get"]["parameters"].append(param(
    "exact", {"type": "string", "enum": ["0", "1", "true", "false"]},
    "Search the words exactly as typed: no synonyms, typo correction or partial matches"))
PATHS["/api/v1/suggest"] = {
    "get": {
        "summary": "Service names for the search box as the citizen types (synonyms, typos and partial matches "
                   "understood as in search)",
        "operationId": "suggest",
        "parameters": [param("q", {"type": "string", "maxLength": 500}, "What has been typed so far")],
        "responses": {
            "200": ok_response("At most 8 names, best first, each with how many active services bear it", {
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
            **error_responses(400),
        },
    }
}

SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
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
    "Service": SERVICE,
    "ServiceDetail": SERVICE_DETAIL,
    "AgencyFigures": AGENCY_FIGURES,
    "Catalogue": CATALOGUE,
    "Procedures": PROCEDURES,
    "Compliance": COMPLIANCE,
    "ComplianceAgency": COMPLIANCE_AGENCY,
    "Ranking": RANKING,
    "RankingIndex": RANKING_INDEX,
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
