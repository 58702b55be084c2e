"""`portal check`: check URLs now, without the application or the database."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO

import click

from portal.crawlers.dispatch import check_url_batches
from portal.crawlers.results import CheckerConfig


def command_checker_config() -> CheckerConfig:
    """The application's checker settings (config.py) under `portal`; the environment when run alone."""
    flask = sys.modules.get("flask")  # not imported: no application, and no import cost for `portal check` alone
    try:
        if flask is not None and flask.has_app_context():
            return CheckerConfig.from_env(flask.current_app.config)
        return CheckerConfig.from_env(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def read_urls(stream: IO[str]) -> Iterator[str]:
    """URLs of a text stream, one a line; blank lines and `#` comments skipped."""
    for line in stream:
        url = line.strip()
        if url and not url.startswith("#"):
            yield url


def _all_urls(urls: Iterable[str], stream: IO[str] | None) -> Iterator[str]:
    yield from urls
    if stream is not None:
        yield from read_urls(stream)


@click.command("check")
@click.argument("urls", nargs=-1)
@click.option(
    "--file", "url_file", type=click.File("r", encoding="utf-8"), help="One URL a line; - for stdin."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line.")
def check_command(urls: tuple[str, ...], url_file: IO[str] | None, as_json: bool) -> None:
    """Check URLs now and print one result per URL as it arrives.

    Configuration comes from the PORTAL_CHECK_* and PORTAL_ALLOW_PRIVATE_ADDRESSES environment
    variables. Results stream in completion order, not input order. Exit status: 0 when every URL is
    up or degraded (slow, challenge, rate_limited), 1 when any URL is down, 2 on a usage error.
    """
    if not urls and url_file is None:
        raise click.UsageError("give at least one URL or --file FILE")
    config = command_checker_config()
    counts: Counter[str] = Counter()
    if not as_json:
        click.echo(f"{'OUTCOME':<9} {'REASON':<18} {'HTTP':>4} {'MS':>7}  URL")
    for batch in check_url_batches(_all_urls(urls, url_file), config):
        lines = []
        for result in batch:
            counts[result.outcome] += 1
            if as_json:
                lines.append(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                continue
            status = "-" if result.http_status is None else str(result.http_status)
            where = result.url
            if result.final_url and result.final_url != result.url:
                where += f" -> {result.final_url}"
            lines.append(f"{result.outcome:<9} {result.reason:<18} {status:>4} {result.elapsed_ms:>7}  {where}\n")
        click.echo("".join(lines), nl=False)  # one write a batch: results still stream as they arrive
    if not as_json:
        total = sum(counts.values())
        click.echo(
            f"{total} checked: {counts['up']} up, {counts['degraded']} degraded, {counts['down']} down",
            err=True,
        )
    raise SystemExit(1 if counts["down"] else 0)


if __name__ == "__main__":
    check_command(prog_name="portal check")
