"""The gateway serves the built web app at ``/`` beside the API: deep links get ``index.html``, hashed assets
are cached for a year and sent compressed, an unknown asset is 404, HTML carries the app's CSP, and nothing of
the API changes. A small build is made here (the real one is ``web/dist``, made by ``npm run build``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crm.services.gateway.webapp import WEB_CSP, WebApp
from tests.support.embedded import running_embedded

INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-3f2a9c.js"></script></html>'
SCRIPT = b"export const answer = 42;\n" * 200  # worth compressing


def make_build(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-3f2a9c.js").write_bytes(SCRIPT)
    (root / "assets" / "index-3f2a9c.css").write_bytes(b"body{margin:0}")
    (root / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    return root


@pytest.fixture(scope="module")
async def crm(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    build = make_build(tmp_path_factory.mktemp("web") / "dist")
    async with running_embedded(tmp_path_factory.mktemp("static"), WEB_DIST_DIR=str(build)) as running:
        yield running


async def test_the_app_is_at_the_root_with_its_csp_and_no_cache(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    response = await client.get("/")
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == WEB_CSP.decode()
    assert response.headers["x-content-type-options"] == "nosniff"
    again = await client.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_a_deep_link_is_the_app_for_get_and_head(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    for path in ("/customers/42", "/tasks/board", "/docs/more", "/api-docs"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.content == INDEX, path
        assert response.headers["content-security-policy"] == WEB_CSP.decode()
    head = await client.head("/customers/42")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(INDEX))
    assert head.content == b""


async def test_hashed_assets_are_immutable_and_gzipped_when_accepted(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    response = await client.get("/assets/index-3f2a9c.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(SCRIPT) / 10
    assert response.content == SCRIPT  # httpx decodes it
    assert "content-security-policy" not in response.headers  # a policy only means something on a page
    plain = await client.get("/assets/index-3f2a9c.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == SCRIPT
    css = await client.get("/assets/index-3f2a9c.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.content == b"body{margin:0}"  # too small to be worth compressing


async def test_other_build_files_are_served_but_revalidated(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    response = await client.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-cache"


async def test_an_unknown_asset_is_404_not_the_app(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    response = await client.get("/assets/index-0ld0ne.js")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_the_api_and_the_gateways_pages_are_unchanged(crm) -> None:  # type: ignore[no-untyped-def]
    _, client = crm
    unauthorised = await client.get("/api/customers")
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"] == "unauthorized"
    unknown = await client.get("/api/no-such-area")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json"
    assert (await client.get("/health")).json()["status"] == "ok"
    assert "paths" in (await client.get("/openapi.json")).json()
    docs = await client.get("/docs")
    assert b"swagger-ui" in docs.content
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert (await client.post("/customers", json={})).status_code == 404  # only GET/HEAD reach the app


async def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    async with running_embedded(tmp_path / "data", WEB_DIST_DIR=str(empty)) as (_, client):
        response = await client.get("/")
        assert response.status_code == 200
        assert b"npm run build" in response.content
        assert (await client.post("/api/auth/login", json={})).status_code == 422  # the API works


async def test_a_build_made_after_the_start_is_served_and_precompressed_twins_used(tmp_path: Path) -> None:
    app = WebApp([tmp_path / "dist"])
    assert app.root is None
    make_build(tmp_path / "dist")
    brotli = tmp_path / "dist" / "assets" / "index-3f2a9c.js.br"
    brotli.write_bytes(b"pretend-brotli")
    assert app.root == tmp_path / "dist"
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    asset = "/assets/index-3f2a9c.js"
    scope = {"method": "GET", "path": asset, "headers": [(b"accept-encoding", b"br, gzip")]}
    await app.serve(scope, send, [])
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == b"br"
    assert sent[1]["body"] == b"pretend-brotli"
    sent.clear()
    gzip_only = {**scope, "headers": [(b"accept-encoding", b"gzip")]}
    await app.serve(gzip_only, send, [])
    assert gzip.decompress(sent[1]["body"]) == SCRIPT


async def test_paths_cannot_leave_the_build(tmp_path: Path) -> None:
    app = WebApp([make_build(tmp_path / "dist")])
    (tmp_path / "secret.txt").write_text("no")
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    for path in ("/../secret.txt", "/assets/../../secret.txt", "/a/%2e%2e/secret.txt"):
        sent.clear()
        await app.serve({"method": "GET", "path": path, "headers": []}, send, [])
        assert sent[1]["body"] != b"no", path
