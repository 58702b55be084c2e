"""Who may do what: role decorators and agency scoping shared by every admin view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

from flask import abort, request
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


def deny(action: str, entity_type: str, entity_id: str | int | None, agency_id: int | None = None) -> NoReturn:
    """Audit a refused attempt by the signed-in user (e.g. "service.denied"), then answer 403."""
    from portal.extensions import db
    from portal.services import audit

    audit.record(db.session, action=action, entity_type=entity_type,
                 entity_id=None if entity_id is None else str(entity_id)[:80],
                 user=current_user._get_current_object(), agency_id=agency_id, ip=request.remote_addr,
                 note=f"{request.method} {request.path}"[:500])
    db.session.commit()
    abort(403)


def deny_posted_agency(session: Session, scope: list[int] | None, action: str) -> None:
    """Refuse (403, audited as `action`) a form posted for an agency outside the officer's scope."""
    if request.method != "POST" or scope is None:
        return
    from portal.services.agencies import get_by_code

    target = get_by_code(session, request.form.get("agency") or "")
    if target is not None and target.id not in scope:
        deny(action, "agency", target.code, agency_id=target.id)


def roles_required(*roles: str) -> Callable:
    """Allow signed-in, enabled users with one of the roles; others get a login redirect or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                deny("access.denied", "page", request.path)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required("admin")
staff_required = roles_required("admin", "officer")
