"""Fixtures of the operations tests: a migrated SQLite database in a fresh instance folder."""

from __future__ import annotations

import pytest

from tests.ops.processes import portal, portal_env


@pytest.fixture
def migrated(tmp_path) -> dict[str, str]:
    """The environment of `portal` processes whose database has been migrated with `portal db upgrade`."""
    env = portal_env(tmp_path)
    done = portal("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    return env
