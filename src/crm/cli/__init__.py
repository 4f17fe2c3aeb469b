"""The ``crm`` command: run the CRM (embedded, one service, or all six), and operate it.

Expected failures (a bad variable, a port in use, an unreachable broker) print one line naming the culprit
and exit 2; no traces.
"""

from __future__ import annotations

import sys

from crm.cli import analytics, auth, budget, db, docs, kafka, run, seed, smoke
from crm.cli.common import new_typer

app = new_typer("An event-driven CRM on Apache Kafka.")
app.command()(run.dev)
app.command()(run.serve)
app.command()(run.up)
app.command()(smoke.smoke)
app.command()(seed.seed)
app.add_typer(db.app, name="db")
app.add_typer(docs.app, name="docs")
kafka.app.command()(budget.budget)
app.add_typer(kafka.app, name="kafka")
app.add_typer(analytics.app, name="analytics")
app.add_typer(auth.app, name="auth")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
