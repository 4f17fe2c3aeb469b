"""The web app's built files (Vite's output: ``index.html`` and hashed files under ``/assets/``), served by
the gateway at ``/`` beside the API.

- A file of the build answers as itself: under ``/assets/`` immutable for a year (its name changes with its
  content), anything else (``index.html``, ``favicon.svg``) ``no-cache`` with an ETag, so a new build is seen
  at once. A compressible file is sent gzipped (or as the build's own ``.br``/``.gz`` twin) to a client that
  accepts it, compressed once and remembered.
- An unknown ``/assets/...`` is 404 (a stale page asking for a file of an older build must fail loudly); any
  other unknown path is ``index.html`` (the app routes it in the browser: ``/customers/42`` is a deep link).
- HTML carries the app's Content-Security-Policy (:data:`WEB_CSP`): scripts and styles from this origin only.

Where the build is found (the first holding an ``index.html``): ``WEB_DIST_DIR``, else the copy packaged in
the wheel (``crm/webui/dist``, filled by the Docker build), else ``<repo>/web/dist`` (a source checkout). With
none, every page answers how to build the app, and the API works as ever.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Scope, Send

from crm.platform.settings import EnvReader
from crm.services.gateway.direct import send_whole

Headers = list[tuple[bytes, bytes]]

BUILD_COMMAND = "cd web && npm ci && npm run build"
# The app talks to this origin only (fetch, the event stream); Vite's build has no inline script. Styles
# allow 'unsafe-inline' because component libraries set style attributes at run time.
WEB_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
IMMUTABLE = b"public, max-age=31536000, immutable"
NO_CACHE = b"no-cache"
# Paths the gateway itself owns: never the app's, even for GET.
GATEWAY_PAGES = frozenset({"/docs", "/openapi.json", "/health", "/ready", "/metrics"})
_COMPRESSIBLE = (b"text/", b"application/json", b"image/svg+xml", b"application/manifest")
_TYPES = {
    ".js": b"text/javascript; charset=utf-8",
    ".mjs": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".html": b"text/html; charset=utf-8",
    ".json": b"application/json",
    ".map": b"application/json",
    ".svg": b"image/svg+xml",
    ".webmanifest": b"application/manifest+json",
    ".woff2": b"font/woff2",
    ".woff": b"font/woff",
    ".txt": b"text/plain; charset=utf-8",
    ".ico": b"image/x-icon",
}
_MIN_GZIP = 1024  # below a packet, compressing saves nothing


def dist_dir_setting(env: EnvReader) -> str:
    """``WEB_DIST_DIR``: where the built web app is (default: packaged, else the checkout's web/dist)."""
    return env.text("WEB_DIST_DIR")


def candidate_dirs(configured: str = "") -> list[Path]:
    """Where the build may be, in order of preference."""
    if configured:
        return [Path(configured).expanduser()]
    here = Path(__file__).resolve()
    packaged = here.parents[2] / "webui" / "dist"  # crm/webui/dist, inside the installed package
    return [packaged, here.parents[4] / "web" / "dist"]  # <repo>/src/crm/services/gateway/webapp.py


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    etag: bytes
    content_type: bytes


class WebApp:
    """Answers GET/HEAD for every path that is neither the API's nor one of :data:`GATEWAY_PAGES`."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs = list(dirs)
        self._root: Path | None = None
        self._files: OrderedDict[tuple[str, int, int], _File] = OrderedDict()

    @classmethod
    def from_setting(cls, configured: str = "") -> WebApp:
        return cls(candidate_dirs(configured))

    @property
    def root(self) -> Path | None:
        """The build in use; looked for again while there is none (a build made after the start is seen)."""
        if self._root is None or not (self._root / "index.html").is_file():
            self._root = next((d for d in self.dirs if (d / "index.html").is_file()), None)
        return self._root

    def owns(self, method: str, path: str) -> bool:
        return method in ("GET", "HEAD") and not path.startswith("/api/") and path not in GATEWAY_PAGES

    async def serve(self, scope: Scope, send: Send, extra: Headers) -> None:
        """Answer a GET/HEAD it :meth:`owns`; ``extra``: the gateway's headers for every answer."""
        headers = [pair for pair in extra if pair[0] != b"content-security-policy"]
        root = self.root
        if root is None:
            await self._not_built(scope, send, headers)
            return
        path: str = scope["path"]
        target = _inside(root, path)
        immutable = path.startswith("/assets/")
        if target is None or not target.is_file():
            if immutable:
                body = b'{"error":"not_found","message":"No such file in this build of the web app"}'
                headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
                await send_whole(send, 404, headers, b"" if scope["method"] == "HEAD" else body)
                return
            target = root / "index.html"
        file = self._load(target)
        headers.append((b"cache-control", IMMUTABLE if immutable else NO_CACHE))
        headers.append((b"etag", file.etag))
        if file.content_type.startswith(b"text/html"):
            headers.append((b"content-security-policy", WEB_CSP))
        if not immutable and _header(scope, b"if-none-match") == file.etag:
            await send_whole(send, 304, [*headers, (b"content-length", b"0")], b"")
            return
        body, encoding = file.body, None
        accepted = _header(scope, b"accept-encoding") or b""
        if file.gzipped is not None:
            headers.append((b"vary", b"Accept-Encoding"))
            if immutable and b"br" in accepted and (twin := target.with_name(target.name + ".br")).is_file():
                body, encoding = twin.read_bytes(), b"br"
            elif b"gzip" in accepted:
                body, encoding = file.gzipped, b"gzip"
        if encoding is not None:
            headers.append((b"content-encoding", encoding))
        headers += [(b"content-type", file.content_type), (b"content-length", b"%d" % len(body))]
        await send_whole(send, 200, headers, b"" if scope["method"] == "HEAD" else body)

    def _load(self, path: Path) -> _File:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
            return found
        body = path.read_bytes()
        content_type = _TYPES.get(path.suffix.lower())
        if content_type is None:
            guessed = mimetypes.guess_type(path.name)[0]
            content_type = guessed.encode() if guessed else b"application/octet-stream"
        gzipped = None
        if content_type.startswith(_COMPRESSIBLE) and len(body) >= _MIN_GZIP:
            twin = path.with_name(path.name + ".gz")
            gzipped = twin.read_bytes() if twin.is_file() else gzip.compress(body, 6, mtime=0)
        etag = b'"%s"' % hashlib.sha256(body).hexdigest()[:20].encode()
        file = _File(body, gzipped, etag, content_type)
        self._files[key] = file
        if len(self._files) > 256:  # a few builds' worth; older builds' files are forgotten
            self._files.popitem(last=False)
        return file

    async def _not_built(self, scope: Scope, send: Send, headers: Headers) -> None:
        places = ", ".join(str(d) for d in self.dirs)
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>CRM</title>"
            "<h1>The web app is not built</h1>"
            f"<p>Build it with <code>{BUILD_COMMAND}</code> (or run <code>./scripts/dev</code>, which does), "
            "then reload. The API works meanwhile: see <a href=/docs>/docs</a>.</p>"
            f"<p>Looked in: {places}</p></html>"
        ).encode()
        headers += [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
            (b"cache-control", NO_CACHE),
            (b"content-security-policy", WEB_CSP),
        ]
        await send_whole(send, 200, headers, b"" if scope["method"] == "HEAD" else body)


def _inside(root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``root``; None for anything that could leave it."""
    parts = [p for p in path.split("/") if p]
    if any(p in ("..", ".") or "\\" in p or "\x00" in p for p in parts):
        return None
    if not parts:
        return root / "index.html"
    return root.joinpath(*parts)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
