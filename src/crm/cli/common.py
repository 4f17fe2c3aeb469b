"""What every ``crm`` subcommand shares: the consoles, the one way to fail, and Typer defaults."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


def new_typer(help_text: str) -> typer.Typer:
    # Tracebacks never show local variables: they could hold a password or a token.
    return typer.Typer(
        no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False, help=help_text
    )


def fail(message: str, code: int = 2) -> NoReturn:
    """An expected failure: one line naming the culprit (variable, file, broker), no traceback."""
    err.print(f"[bold red]✖[/] {message}")
    raise typer.Exit(code)


def writable_dir(path: Path, option: str) -> Path:
    """``path`` resolved and created if missing, or a failure naming ``option`` and why it cannot be used
    (a file in the way, no permission)."""
    resolved = path.expanduser().resolve()
    try:
        resolved.mkdir(parents=True, exist_ok=True)
        probe = resolved / ".crm-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        fail(f"{option} {path}: cannot be used as a directory: {exc.strerror or exc}")
    return resolved
