"""Probes and metrics for operators: /healthz, /readyz, /metrics (never from the page cache)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from portal.extensions import db
from portal.services import operations

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no database query)."""
    g.no_store = True
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers and the scheduler and the last sweep are fresh (503 if not)."""
    g.no_store = True
    ready, details = operations.readiness(db.session, current_app.config)
    return jsonify(ready=ready, **details), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    """Prometheus text format, computed from the database so every worker reports the same."""
    from prometheus_client import CONTENT_TYPE_LATEST

    g.no_store = True
    body = operations.metrics_text(db.session, current_app.config)
    return current_app.response_class(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
