"""Logging: the guide's human lines by default, JSON with ``LOG_FORMAT=json``; secrets never printed.

Every record passes a redaction filter that replaces each configured secret (Kafka password, JWT key) with
``***`` wherever it appears, so even an exception message quoting a connection string stays clean.

Every record also gets the context it was logged in, from context variables set by the HTTP middleware and the
event consumer: the service (five share one process in embedded mode), the request id, the trace id (the
same across services for one request and the events it caused) and the event being handled. The text format
shows only the service; ``LOG_FORMAT=json`` writes all of it, one object per line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

from crm.platform.tracing import TraceContext, current_trace

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
service_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("crm_service", default=None)
# (event id, event type) of the event a consumer is handling.
event_var: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("crm_event", default=None)

_TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(service)s] %(name)s: %(message)s"
# The access line of each HTTP request: INFO in JSON (log pipelines want it), DEBUG in text (the guide's
# lines stay readable). Set by configure_logging.
access_level = logging.DEBUG
# This process's name in logs and in the metrics of the process itself (crm-dev, auth-service, gateway).
process_service = "crm"


class _Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = message
            for secret in self.secrets:
                redacted = redacted.replace(secret, "***")
            if record.exc_info and record.exc_info[1] is not None:
                text = logging.Formatter().formatException(record.exc_info)
                if any(secret in text for secret in self.secrets):
                    for secret in self.secrets:
                        text = text.replace(secret, "***")
                    redacted = f"{redacted}\n{text}"
                    record.exc_info = None
                    record.exc_text = None
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "service"):
            record.service = service_var.get() or self.service
        record.request_id = request_id_var.get()
        if not hasattr(record, "trace_id"):
            trace = current_trace.get()
            record.trace_id = trace.trace_id if trace is not None else None
            record.span_id = trace.span_id if trace is not None else None
        if not hasattr(record, "event_id"):
            event = event_var.get()
            record.event_id, record.event_type = event if event is not None else (None, None)
        return True


class _JsonFormatter(logging.Formatter):
    """One JSON object per line; the same keys on every line (null when they do not apply)."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", "-"),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id == "-" else request_id,
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            "event_id": getattr(record, "event_id", None),
            "event_type": getattr(record, "event_type", None),
        }
        http = getattr(record, "http", None)
        if http is not None:
            body["http"] = http
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


_redactor = _Redactor()


def configure_logging(
    service: str, *, level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Install the process-wide handler (on stderr unless ``stream``). Called once per process; later
    calls replace the handler."""
    global access_level, process_service
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(_ContextFilter(service))
    handler.addFilter(_redactor)
    root = logging.getLogger()
    remove_handler()
    handler._crm = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    access_level = logging.INFO if fmt == "json" else logging.DEBUG
    process_service = service
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "alembic", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # aiokafka reports a failed bootstrap at ERROR on its own; our own line says it in the guide's words.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def remove_handler() -> None:
    """Take out the handler configure_logging installed (tests that configured their own)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_crm", False):
            root.removeHandler(old)


def register_secrets(secrets: Iterable[str]) -> None:
    """Never print these strings: every log record is scrubbed of them."""
    _redactor.secrets.update(s for s in secrets if s)


def service_logger(name: str, service: str) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose lines carry ``service`` (several services share one process in embedded mode)."""
    return logging.LoggerAdapter(logging.getLogger(name), {"service": service})


@contextmanager
def event_context(trace: TraceContext | None, event_id: str, event_type: str) -> Iterator[None]:
    """Log lines inside carry this event and trace (the relay's per-row lines)."""
    trace_token = current_trace.set(trace)
    event_token = event_var.set((event_id, event_type))
    try:
        yield
    finally:
        event_var.reset(event_token)
        current_trace.reset(trace_token)
