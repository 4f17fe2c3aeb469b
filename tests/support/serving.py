"""An ASGI app on a real uvicorn server in the test's own event loop: for what httpx's ASGITransport cannot
show (it buffers a whole answer, so a stream that never ends would never reach the test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from crm.localinfra.ports import free_port
from tests.support.waiting import eventually


@asynccontextmanager
async def serving(app: ASGIApp, **options: Any) -> AsyncIterator[str]:
    """``app`` on a uvicorn server on 127.0.0.1:<free port>, in this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None, **options
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return server.started

    await eventually(started, timeout=10, what=f"a uvicorn server on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        drain = getattr(app, "drain", None)
        if drain is not None:  # as `crm dev` does: open streams end rather than hold the shutdown
            drain()
        server.should_exit = True
        await asyncio.wait_for(task, 15)
