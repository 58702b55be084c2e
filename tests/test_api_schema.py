"""The whole /api/v1 against its own OpenAPI description (schemathesis, in-process WSGI, bounded examples):
every route is described, no request gives a server error, and every response matches the description."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from portal.models import Service
from portal.services.agencies import get_by_code
from tests.rankings.helpers import crawled, quarterly, rollups

EXAMPLES = 25


@pytest.fixture
def api(app, db, demo):
    """The demo data plus a quarter of reports, crawled figures, roll-ups and health, so rankings have values."""
    session = db.session
    for service in session.execute(db.select(Service)).scalars():
        service.health = ("up", "degraded", "down", "dead", "unknown")[service.id % 5]
        if service.id % 7 == 0:
            rollups(session, service, 1, checks=24, up=20, degraded=2)
    for code in ("ha-noi", "can-tho", "bo-tai-chinh"):
        owner = get_by_code(session, code)
        quarterly(session, owner, "2026-Q1", l3=10, l4=5, online=40, received=100)
        crawled(session, owner, online=30, total=90, period="2026-Q1", observed_at=datetime(2026, 2, 1, tzinfo=UTC))
        crawled(session, owner, online=50, total=60)
    session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_api_route_is_described(app, client):
    paths = {re.sub(r"\{[a-z_]+\}", "{}", p) for p in client.get("/api/v1/openapi.json").get_json()["paths"]}
    routes = {
        re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "{}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods
    }
    assert routes == paths


def test_every_query_parameter_the_api_reads_is_described(client):
    import inspect

    from portal.blueprints import api as api_module
    from portal.services import search

    doc = client.get("/api/v1/openapi.json").get_json()
    described = {p["name"] for path in doc["paths"].values() for op in path.values()
                 for p in op.get("parameters", []) if p["in"] == "query"}
    source = inspect.getsource(api_module) + inspect.getsource(search.parse_query) + inspect.getsource(
        search._int_param)
    read = set(re.findall(r"""args\.get\(["']([a-z_]+)["']""", source))
    read |= set(re.findall(r"""_int_param\(args, ["']([a-z_]+)["']""", source))
    assert read and read <= described


# Checked for every response: no 5xx, a documented status code and content type, a body that matches the
# documented schema. Left out: positive_data_acceptance (a schema-valid period may have no figures, and which
# metric/source/period combinations exist depends on the data — a documented 400) and its negative twin.
# No parameter, or only a free-text path parameter: there is no invalid request to generate.
ANY_INPUT_IS_VALID = {"GET /api/v1/rankings", "GET /api/v1/openapi.json", "GET /api/v1/agencies/{code}/figures",
                      "GET /api/v1/catalogues"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_description(api, mode):
    operations = [result.ok() for result in api.get_all_operations()]
    assert {o.label for o in operations} >= {"GET /api/v1/rankings", "GET /api/v1/rankings/{metric}",
                                             "GET /api/v1/services", "GET /api/v1/agencies"}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.label in ANY_INPUT_IS_VALID:
            continue

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate(checks=CHECKS)

        check()
