"""The crm command: expected failures name the variable at fault, in one line, with exit code 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"KAFKA_BROKERS": "nonsense", "JWT_SECRET": "j" * 40}, "KAFKA_BROKERS"),
        ({"KAFKA_MECHANISM": "kerberos", "JWT_SECRET": "j" * 40}, "KAFKA_MECHANISM"),
        ({}, "JWT_SECRET"),
    ],
)
def test_serve_refuses_bad_configuration_naming_the_variable(env: dict[str, str], variable: str) -> None:
    result = runner.invoke(app, ["serve", "customer"], env={"JWT_SECRET": "", **env})
    assert result.exit_code == 2
    assert variable in result.output
    assert "Traceback" not in result.output


def test_the_gateway_names_missing_upstreams() -> None:
    result = runner.invoke(app, ["serve", "gateway"], env={"AUTH_SERVICE_URL": "http://127.0.0.1:1"})
    assert result.exit_code == 2
    assert "CUSTOMER_SERVICE_URL" in result.output and "AUTH_SERVICE_URL" not in result.output


def test_an_unknown_service_is_named() -> None:
    result = runner.invoke(app, ["serve", "billing"])
    assert result.exit_code == 2 and "billing" in result.output


@pytest.mark.parametrize("command", ["dev", "up"])
def test_a_data_dir_that_cannot_be_a_directory_is_named(tmp_path: Path, command: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = runner.invoke(app, [command, "--data-dir", str(tmp_path / "a-file" / "data")])
    assert result.exit_code == 2
    assert "--data-dir" in result.output and "Not a directory" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "a-file").read_text() == "not a directory"


def test_db_migrate_creates_every_services_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "migrate"], env={"CRM_DATA_DIR": str(tmp_path), "DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "customer.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"customers", "outbox", "inbox", "alembic_version"} <= tables
    again = runner.invoke(
        app, ["db", "migrate", "customer"], env={"CRM_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    )
    assert again.exit_code == 0, "migrating twice is harmless"
