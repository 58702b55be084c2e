"""`portal stats probe` (no database) and `portal crawl stats` (one pass over the stat sources)."""

from __future__ import annotations

import json
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.commands.check import command_checker_config
from portal.crawlers.probe import probe
from portal.crawlers.stats import FIGURES, validate_rule


def _load_rule(stream: IO[str] | None) -> dict[str, Any] | None:
    if stream is None:
        return None
    try:
        rule = json.load(stream)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--rule") from exc
    errors = validate_rule(rule)
    if errors:
        raise click.BadParameter("; ".join(errors), param_hint="--rule")
    return rule


@click.group("stats", help="Application figures of agencies' statistics pages.")
def stats_cli() -> None:
    """Plain click group: `stats probe` needs neither the application context nor the database."""


@stats_cli.command("probe")
@click.argument("url")
@click.option("--rule", "rule_file", type=click.File("r", encoding="utf-8"),
              help="Extraction rule (JSON, see docs/architecture.md); - for stdin. Default: the auto extractor.")
@click.option("--period", help='The period to read on a page showing several ("Lũy kế", "Tháng 10", "Năm 2024").')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def probe_command(url: str, rule_file: IO[str] | None, period: str | None, as_json: bool) -> None:
    """Fetch URL now and print the application figures found on it.

    With --json the output is exactly {"url", "figures": {received_total, received_online, resolved,
    resolved_on_time, online_rate}, "number_format": "vi"|"en"|null, "extractor", "warnings": [...],
    "evidence": {the five figures: where each was read, or null}}, with null for a figure that was not
    found. When the page cannot be fetched (the checker's reasons:
    not_found, timeout, blocked_address, ...) the object also carries
    "error": {"reason", "http_status", "final_url", "message"}, every figure is null, the first warning
    says "fetch failed: REASON ...", and the exit status is 1.

    Exit status: 0 when the page was read (even if no figure was found), 1 when it could not be
    fetched, 2 on a usage error (bad rule, bad PORTAL_CHECK_* variable). Fetches go through the
    guarded checker: private and loopback addresses are refused unless
    PORTAL_ALLOW_PRIVATE_ADDRESSES is set.
    """
    rule = _load_rule(rule_file)
    config = command_checker_config()
    result = probe(url, rule, config, period)
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    elif result.ok:
        _print_table(data)
    else:
        click.echo(f"Error: {data['warnings'][0]}", err=True)
    if not result.ok:
        raise SystemExit(1)


def _print_table(data: dict[str, Any]) -> None:
    click.echo(f"URL:           {data['url']}")
    click.echo(f"Extractor:     {data['extractor']}")
    click.echo(f"Number format: {data['number_format'] or '-'}")
    for name in FIGURES:
        value = data["figures"][name]
        where = (data["evidence"].get(name) or {}).get("where")
        click.echo(f"  {name:<17} {'-' if value is None else value}" + (f"   ({where})" if where else ""))
    for warning in data["warnings"]:
        click.echo(f"Warning: {warning}", err=True)


@click.command("stats")
@click.option("--agency", "agency_code", help="Only this agency's sources (and its sub-units').")
@with_appcontext
def crawl_stats_command(agency_code: str | None) -> None:
    """One pass over the enabled stat sources: fetch, extract, check plausibility, store snapshots.

    Implausible figures are held for review at /admin/figures/held instead of being published.
    Exit status 1 when any source could not be fetched or showed no figures.
    """
    from portal.extensions import db
    from portal.services import figures

    try:
        config = figures.checker_config(current_app.config)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        summary = figures.run_stats_crawl(db.session, agency=agency_code, config=config)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from exc
    for line in summary.lines:
        click.echo(line)
    click.echo(
        f"{summary.sources} sources: {summary.published} published, {summary.held} held for review, "
        f"{summary.empty} without figures, {summary.failed} failed",
        err=True,
    )
    raise SystemExit(1 if summary.failed or summary.empty else 0)
