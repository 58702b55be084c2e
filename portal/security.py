"""Who may do what: role decorators and agency scoping shared by every admin view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import Session

from portal.models import Agency, User


def scope_agency_ids(session: Session, user: User) -> list[int] | None:
    """Agency ids an officer may manage (their agency and its sub-units); None means every agency (admin)."""
    if user.is_admin:
        return None
    if user.agency is None:
        return []
    from portal.services.agencies import subunit_ids

    return subunit_ids(session, user.agency)


def can_manage_agency(session: Session, user: User, agency: Agency | int) -> bool:
    agency_id = agency if isinstance(agency, int) else agency.id
    scope = scope_agency_ids(session, user)
    return scope is None or agency_id in scope


def roles_required(*roles: str) -> Callable:
    """Allow signed-in, enabled users with one of the roles; others get a login redirect or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required("admin")
staff_required = roles_required("admin", "officer")
