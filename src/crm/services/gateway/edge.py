"""What the gateway adds to every request and response: request ids, W3C trace context, security headers and
CORS. Header lists are built once at start; a request only picks among them."""

from __future__ import annotations

import base64
import hashlib
import re
from random import getrandbits

from crm.services.gateway.openapi import SWAGGER_SCRIPT

Headers = list[tuple[bytes, bytes]]

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")
_TRACEPARENT = re.compile(rb"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


def request_id(incoming: bytes | None) -> bytes:
    """The client's ``X-Request-ID`` when it is a sane token (≤ 128 safe characters), else a new one."""
    if incoming is not None and _REQUEST_ID.match(incoming):
        return incoming
    # Unique, not secret: the process's PRNG (seeded from the OS) spares a getrandom syscall per request.
    return b"%032x" % getrandbits(128)


def traceparent(incoming: bytes | None) -> bytes:
    """The client's W3C ``traceparent`` when valid (forwarded unchanged: the gateway records no span of its
    own), else the start of a new trace: version 00, random trace and parent ids, sampled."""
    if incoming is not None:
        match = _TRACEPARENT.match(incoming.strip().lower())
        if (
            match
            and match.group(1) != b"ff"
            and (match.group(1) != b"00" or match.group(5) is None)
            and match.group(2) != b"0" * 32
            and match.group(3) != b"0" * 16
        ):
            return incoming.strip().lower()
    return b"00-%032x-%016x-01" % (getrandbits(128) or 1, getrandbits(64) or 1)


def _script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


# The API answers JSON only: nothing may load, frame it or be submitted from it.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# /docs: Swagger UI's bundle and stylesheet from jsDelivr, its one inline bootstrap script by hash, and
# "Try it out" calling this origin.
DOCS_CSP = (
    "default-src 'none'; "
    f"script-src https://cdn.jsdelivr.net '{_script_hash(SWAGGER_SCRIPT)}'; "
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "img-src 'self' data: https://cdn.jsdelivr.net; font-src https://cdn.jsdelivr.net; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
).encode()
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

_SECURITY = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API_SECURITY: Headers = [*_SECURITY, (b"content-security-policy", API_CSP)]
DOCS_SECURITY: Headers = [*_SECURITY, (b"content-security-policy", DOCS_CSP)]

EXPOSED = (
    b"x-request-id, traceparent, retry-after, www-authenticate, "
    b"ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy"
)
ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
_HEADER_LIST = re.compile(rb"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")


class Cors:
    """``CORS_ORIGINS``: the exact origins allowed (with credentials), or ``*`` (any, no credentials)."""

    def __init__(self, origins: tuple[str, ...]) -> None:
        self.any = "*" in origins
        self.origins = frozenset(o.encode() for o in origins if o != "*")
        self.enabled = bool(origins)

    def allows(self, origin: bytes) -> bool:
        return self.any or origin.lower().rstrip(b"/") in self.origins

    def response_headers(self, origin: bytes) -> Headers:
        """For an actual (non-preflight) response to an allowed ``origin``."""
        if self.any:
            return [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSED)]
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", EXPOSED),
            (b"vary", b"Origin"),
        ]

    def preflight_headers(self, origin: bytes, requested_headers: bytes | None) -> Headers:
        headers = [
            (b"access-control-allow-origin", b"*" if self.any else origin),
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", b"600"),
        ]
        if not self.any:
            headers += [(b"access-control-allow-credentials", b"true"), (b"vary", b"Origin")]
        if requested_headers and _HEADER_LIST.match(requested_headers.strip()):
            headers.append((b"access-control-allow-headers", requested_headers.strip()))
        return headers
