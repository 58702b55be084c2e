"""hardening: one service per agency and address (services.url_key, unique), per-user session version

Existing services get the identity key of their address. When an agency already has several services
at one address (imports that raced before this constraint), the oldest keeps the key and every later
copy gets `duplicate <id>: <key>`, so nothing is dropped; each group is printed here and listed by
`portal doctor` until an officer changes or retires the copies.

Revision ID: 0006
Revises: 0005

"""
import sys
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _url_key(url):
    """The identity rule of portal/services/addresses.py as of this revision."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    key = f"{scheme}://{netloc}{parts.path.rstrip('/')}"
    if parts.query:
        key += f"?{parts.query}"
    if parts.fragment:
        key += f"#{parts.fragment}"
    return key


def _fill_keys(bind):
    services = sa.table("services", sa.column("id", sa.Integer), sa.column("agency_id", sa.Integer),
                        sa.column("url", sa.String), sa.column("status", sa.String),
                        sa.column("url_key", sa.String))
    rows = bind.execute(sa.select(services.c.id, services.c.agency_id, services.c.url, services.c.status)
                        .order_by(services.c.id)).all()
    groups = {}
    for row in rows:
        groups.setdefault((row.agency_id, _url_key(row.url)), []).append(row)
    updates, duplicates = [], []
    for (agency_id, key), members in groups.items():
        # an active copy keeps the address before retired ones, the oldest first
        members.sort(key=lambda r: (r.status != "active", r.id))
        updates.append({"sid": members[0].id, "key": key})
        for extra in members[1:]:
            updates.append({"sid": extra.id, "key": f"duplicate {extra.id}: {key}"[:2000]})
        if len(members) > 1:
            duplicates.append((agency_id, key, [m.id for m in members]))
    if updates:
        bind.execute(services.update().where(services.c.id == sa.bindparam("sid")).values(url_key=sa.bindparam("key")),
                     updates)
    if duplicates:
        print(f"0006: {len(duplicates)} address(es) registered more than once by one agency; the first service "
              "keeps the address, the others are kept apart (run `portal doctor` to list them):", file=sys.stderr)
        for agency_id, key, ids in duplicates:
            print(f"  agency {agency_id}: {key} — services {', '.join(f'#{i}' for i in ids)} "
                  f"(#{ids[0]} keeps it)", file=sys.stderr)


def upgrade():
    # plain ALTERs (no batch copy on SQLite, which would drop the search triggers on services)
    op.add_column('services', sa.Column('url_key', sa.String(length=2000), server_default='', nullable=False))
    _fill_keys(op.get_bind())
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('services', 'url_key', server_default=None)
    op.create_index('uq_services_agency_url_key', 'services', ['agency_id', 'url_key'], unique=True)
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('users', 'session_version')
    op.drop_index('uq_services_agency_url_key', table_name='services')
    op.drop_column('services', 'url_key')
