"""README command 1's path: `crm dev` as a real process, checked by `crm smoke` (the guide's section 7)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm.cli import app
from crm.localinfra import DevServer, InfraError


def test_crm_dev_passes_the_smoke_test_and_stops_cleanly(tmp_path: Path) -> None:
    server = DevServer(tmp_path / "data", env={"CRM_ADMIN_PASSWORD": "Admin-Password-1"})
    try:
        server.start(timeout=60)
        result = CliRunner().invoke(app, ["smoke", server.url])
        assert result.exit_code == 0, result.output
        assert result.output.count("✅") == 5
    finally:
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit status -SIGTERM
        assert server.stop() in (0, -signal.SIGTERM)
    text = server.log_file.read_text()
    assert "Application shutdown complete." in text, "crm dev stops cleanly on SIGTERM"
    assert "📤 Event published: USER_CREATED to topic user.events" in text


def test_a_start_that_fails_says_why_with_the_servers_own_words(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    server = DevServer(tmp_path / "a-file")  # a file where its data directory should be
    with pytest.raises(InfraError, match=r"exited \(2\) during its start") as failure:
        server.start(timeout=60)
    assert "--data-dir" in str(failure.value) and "File exists" in str(failure.value)
