"""Short-lived caching of anonymous public GET responses (per worker process).

Public pages and API answers are the same for every anonymous visitor in a language, so each worker
keeps them for PORTAL_PAGE_CACHE_SECONDS (30 s by default; 0 turns it off). Signed-in users, responses
that change the session, pages with a visitor's own form token (`g.personal_page`) and anything but
200/400/404 are never cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request, session
from flask_login import current_user

from portal.extensions import cache
from portal.i18n import current_locale

CACHEABLE_STATUSES = {200, 400, 404}


def _key() -> str:
    digest = hashlib.sha256(request.full_path.encode("utf-8", "surrogatepass")).hexdigest()
    return f"page:{current_locale()}:{digest}"


def public_page(view: Callable) -> Callable:
    """Serve the view from the per-process cache for anonymous GET requests."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        timeout = current_app.config.get("PORTAL_PAGE_CACHE_SECONDS", 0)
        if timeout <= 0 or request.method != "GET" or current_user.is_authenticated or "_flashes" in session:
            return view(*args, **kwargs)
        key = _key()
        hit = cache.get(key)
        if hit is not None:
            body, status, mimetype = hit
            return current_app.response_class(body, status=status, mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code in CACHEABLE_STATUSES and not session.modified and not g.get("personal_page")
                and not response.direct_passthrough and not response.is_streamed):
            cache.set(key, (response.get_data(), response.status_code, response.mimetype), timeout=timeout)
        return response

    return wrapped


def clear() -> None:
    """Drop this process's cached pages (after an admin change)."""
    cache.clear()
