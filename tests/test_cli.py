import json

from sqlalchemy import func, select

from portal.models import Agency


def test_seed_demo_command_is_idempotent(runner, db):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed", "demo"])
    assert "services added: 0" in second.output
    assert db.session.execute(select(func.count()).select_from(Agency)).scalar_one() == 95


def test_check_is_on_the_portal_cli(app, runner):
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = False  # portal check reads the application's settings
    result = runner.invoke(args=["check", "--json", "ftp://example.gov.vn/x", "http://127.0.0.1:9/"])
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    by_url = {line["url"]: line for line in lines}
    assert by_url["ftp://example.gov.vn/x"]["reason"] == "invalid_url"
    assert by_url["http://127.0.0.1:9/"]["reason"] == "blocked_address"
    assert result.exit_code == 1


def test_seed_synthetic(runner, db):
    result = runner.invoke(args=["seed", "synthetic", "--services", "50"])
    assert result.exit_code == 0, result.output
    assert "Added 50" in result.output
