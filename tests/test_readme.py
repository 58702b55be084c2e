"""The README documents every setting, command, route and check reason the code has, and nothing it lacks."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from portal.crawlers.pagetext import REASON_OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
READERS = re.compile(r"""(?:environ\.get|_int|_float|_flag|_choice)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
PORTAL_NAME = re.compile(r"\bPORTAL_[A-Z0-9_]*[A-Z0-9]\b")
TABLE_SETTING = re.compile(r"^\| `([A-Z][A-Z0-9_]*)`(?: / `([A-Z][A-Z0-9_]*)`)? \|", re.M)
FLASK_BUILTINS = {"run", "shell", "routes"}


def settings_read() -> set[str]:
    sources = [ROOT / "config.py", *sorted((ROOT / "portal").rglob("*.py"))]
    names: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        names |= set(READERS.findall(text)) | set(PORTAL_NAME.findall(text))
    return names


def settings_documented() -> set[str]:
    return {name for pair in TABLE_SETTING.findall(README) for name in pair if name}


def test_every_setting_read_is_documented_and_every_documented_one_is_read():
    read, documented = settings_read(), settings_documented()
    assert "PORTAL_CHECK_CONCURRENCY" in read and "SECRET_KEY" in documented
    assert sorted(read - documented) == [], "settings read in the code but missing from the README's tables"
    assert sorted(documented - read) == [], "settings in the README's tables that no code reads"


def _commands(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in group.commands.items():
        if name in FLASK_BUILTINS:
            continue
        path = f"{prefix} {name}"
        if isinstance(command, click.Group) and name != "db":
            found += _commands(command, path)
        else:
            found.append(path)
    return found


@pytest.mark.sqlite_only
def test_every_command_is_documented(app):
    commands = _commands(app.cli, "portal")
    assert "portal serve" in commands and "portal seed agencies" in commands
    assert [c for c in commands if f"`{c}" not in README] == []


@pytest.mark.sqlite_only
def test_every_route_is_documented(app):
    def shape(rule: str) -> str:
        return re.sub(r"<[^>]+>", "<>", rule)

    documented = shape(README)
    rules = {shape(rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert {"/healthz", "/readyz", "/metrics"} <= rules
    assert sorted(rule for rule in rules if f"`{rule}`" not in documented) == []


def test_every_check_reason_is_documented_with_its_outcome():
    assert [r for r, outcome in REASON_OUTCOMES.items() if f"| `{r}` | {outcome} |" not in README] == []


def test_no_file_of_the_project_points_outside_the_repository():
    """A clone has no design document beside it: nothing may cite one (the patterns are built, not written)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    pointer = re.compile("|".join([re.escape("..") + "/" + "shared", "DESIGN" + " §", "DESIGN" + r"\.md"]))
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=False).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    offenders = []
    for name in files:
        path = root / name
        if name.startswith(".ci/") or not path.is_file() or path.suffix in {".png", ".mo", ".xlsx", ".js"}:
            continue
        if pointer.search(path.read_text(encoding="utf-8", errors="ignore")):
            offenders.append(name)
    assert offenders == []
