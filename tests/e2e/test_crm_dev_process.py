"""README command 1's path: `crm dev` as a real process, checked by `crm smoke` (the guide's section 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from crm.cli import app
from crm.localinfra.ports import free_port


def test_crm_dev_passes_the_smoke_test_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "crm", "dev", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CRM_ADMIN_PASSWORD": "Admin-Password-1"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "dev.log").read_text()
            assert time.monotonic() < deadline, "crm dev did not answer within 60 s"
            time.sleep(0.1)
        result = CliRunner().invoke(app, ["smoke", f"http://127.0.0.1:{port}"])
        assert result.exit_code == 0, result.output
        assert result.output.count("✅") == 5
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit status -SIGTERM
        assert process.wait(20) in (0, -signal.SIGTERM)
        log.close()
    text = (tmp_path / "dev.log").read_text()
    assert "Application shutdown complete." in text, "crm dev stops cleanly on SIGTERM"
    assert "📤 Event published: USER_CREATED to topic user.events" in text
    assert "📥 Event received: USER_CREATED from topic user.events" in text
    assert "Admin-Password-1" not in text
