"""`portal import …`: bulk imports from CSV or XLSX files (all-or-nothing)."""

from __future__ import annotations

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import services, report figures or catalogues from CSV/XLSX files.")
