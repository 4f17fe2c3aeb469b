"""Test-wide rules: tests marked ``connected`` need the real Kafka broker and PostgreSQL of the test bed.
They are never skipped: a skip of one is turned into a failure, so a broken test bed fails CI loudly."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.testbed"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("connected") is not None:
        report.outcome = "failed"
        report.longrepr = f"connected test skipped (not allowed: the test bed must run): {report.longrepr}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="the fault suite (tests/chaos) drives 10,000 operations per load instead of a small load",
    )
