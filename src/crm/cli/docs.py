"""``crm docs``: documentation generated from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm.cli.common import err, fail, new_typer

app = new_typer("Documentation generated from the code.")


@app.command("events")
def docs_events(
    output: Annotated[Path, typer.Option(help="where to write the catalog")] = Path("docs/events.md"),
    check: Annotated[bool, typer.Option(help="fail if the file differs from the code")] = False,
) -> None:
    """Write the event catalog (topics, types, payloads, producers, consumers) as Markdown."""
    from crm.catalog_docs import render

    write_or_check(output, render(), check, "crm docs events")


@app.command("openapi")
def docs_openapi(
    output: Annotated[
        Path | None, typer.Option(help="where to write the document (default: print it on stdout)")
    ] = None,
    check: Annotated[bool, typer.Option(help="fail if --output differs from the code")] = False,
) -> None:
    """Write the merged OpenAPI document the gateway serves at /openapi.json (built in-process, no server)."""
    import sys

    from crm.openapi_docs import render

    text = render()
    if output is None:
        if check:
            fail("--check needs --output")
        sys.stdout.write(text)
        return
    write_or_check(output, text, check, f"crm docs openapi --output {output}")


def write_or_check(output: Path, text: str, check: bool, command: str) -> None:
    """Write ``text`` to ``output``; with ``check``, fail naming ``command`` when the file differs instead."""
    if check:
        if not output.exists() or output.read_text() != text:
            fail(f"{output} is out of date: run `{command}`")
        err.print(f"[green]✔[/] {output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    err.print(f"[green]✔[/] wrote {output}")
