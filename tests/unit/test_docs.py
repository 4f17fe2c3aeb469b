"""Documentation generated from the code stays true: the event catalog in docs/events.md, the merged OpenAPI
document in web/openapi.json (the web app's typed client is generated from it)."""

from __future__ import annotations

from pathlib import Path

from crm.catalog_docs import render

ROOT = Path(__file__).resolve().parents[2]


def test_the_event_catalog_matches_the_code() -> None:
    assert (ROOT / "docs" / "events.md").read_text() == render(), (
        "run `crm docs events` and commit docs/events.md"
    )


def test_every_event_type_names_its_consumers() -> None:
    text = render()
    assert "### `USER_CREATED` (v1)" in text
    section = text.split("### `USER_CREATED` (v1)", 1)[1].split("###", 1)[0]
    assert "customer-service (create_customer_for_new_user)" in section
    assert "analytics-service" in section


def test_the_web_apps_openapi_document_matches_the_code() -> None:
    from crm.openapi_docs import render as render_openapi

    assert (ROOT / "web" / "openapi.json").read_text() == render_openapi(), (
        "run `crm docs openapi --output web/openapi.json` (or `npm run gen:api` in web/) and commit it"
    )
