"""Logging: the guide's human lines by default, JSON with ``LOG_FORMAT=json``; secrets never printed.

Every record passes a redaction filter that replaces each configured secret (Kafka password, JWT key) with
``***`` wherever it appears, so even an exception message quoting a connection string stays clean.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(service)s] %(name)s: %(message)s"


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
            record.service = self.service
        record.request_id = request_id_var.get()
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "service": getattr(record, "service", "-"),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("event_id", "event_type", "trace_id"):
            if hasattr(record, key):
                body[key] = getattr(record, key)
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


_redactor = _Redactor()


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "text") -> None:
    """Install the process-wide handler. Called once per process; later calls replace the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(_ContextFilter(service))
    handler.addFilter(_redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_crm", False):
            root.removeHandler(old)
    handler._crm = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "alembic", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # aiokafka reports a failed bootstrap at ERROR on its own; our own line says it in the guide's words.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def register_secrets(secrets: Iterable[str]) -> None:
    """Never print these strings: every log record is scrubbed of them."""
    _redactor.secrets.update(s for s in secrets if s)


def service_logger(name: str, service: str) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose lines carry ``service`` (several services share one process in embedded mode)."""
    return logging.LoggerAdapter(logging.getLogger(name), {"service": service})
