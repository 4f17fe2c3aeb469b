"""Trace context: one W3C ``traceparent`` from the HTTP request, through the outbox row and the Kafka headers,
into the consumer (whose handler runs inside it) and on into the events that handler emits.

Always on and dependency-free: every span gets a span id in the request's trace, so the log lines of
every service correlate by ``trace_id``. OpenTelemetry spans are exported only when the standard ``OTEL_*``
variables name an exporter (``OTEL_TRACES_EXPORTER`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``); the SDK is then
imported, lazily, from the optional extra ``crm[otel]``. Each service gets its own tracer provider
(``service.name``), so the five services of the embedded mode still appear as five services.
"""

from __future__ import annotations

import contextvars
import random
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from crm.platform.settings import ConfigError, EnvReader

_HEX = frozenset("0123456789abcdef")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True, slots=True)
class TraceContext:
    """Where we are in a trace: the W3C trace id, the current span id and the sampled flag."""

    trace_id: str
    span_id: str
    sampled: bool = True

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


current_trace: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("crm_trace", default=None)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span this code runs in, or None outside any."""
    context = current_trace.get()
    return context.traceparent if context is not None else None


def parse_traceparent(value: str | bytes | None) -> TraceContext | None:
    """A W3C ``traceparent`` header, or None when absent or malformed (then a new trace starts)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    parts = text.strip().lower().split("-")
    if len(parts) < 4:
        return None
    version, trace_id, span_id, flags = parts[:4]
    if len(version) != 2 or version == "ff" or (version == "00" and len(parts) != 4):
        return None
    if len(trace_id) != 32 or len(span_id) != 16 or len(flags) != 2:
        return None
    if not _HEX.issuperset(version + trace_id + span_id + flags):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))


def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


class Span:
    """The span a block runs in: its context, and (with OpenTelemetry) the exported span behind it."""

    __slots__ = ("_otel", "context")

    def __init__(self, context: TraceContext, otel: Any = None) -> None:
        self.context, self._otel = context, otel

    def set_attribute(self, key: str, value: Any) -> None:
        if self._otel is not None:
            self._otel.set_attribute(key, value)

    def rename(self, name: str) -> None:
        if self._otel is not None:
            self._otel.update_name(name)

    def end(self, error: BaseException | None = None) -> None:
        """End a span begun with :meth:`Tracer.begin` (``span()`` blocks end by themselves)."""
        if self._otel is not None:
            if error is not None:
                _record_error(self._otel, error)
            self._otel.end()


class Tracer:
    """The spans of one service. Without an OpenTelemetry provider it only mints W3C span ids (cheap)."""

    def __init__(self, service: str, provider: Any = None) -> None:
        self.service = service
        self.provider = provider
        self._otel = provider.get_tracer("crm") if provider is not None else None

    @property
    def exporting(self) -> bool:
        """True when spans go to an OpenTelemetry exporter."""
        return self._otel is not None

    @contextmanager
    def span(
        self,
        name: str,
        *,
        kind: str = "internal",
        parent: TraceContext | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Span]:
        """Run the block in a new span, a child of ``parent`` (a new trace when None): while it runs,
        :data:`current_trace` is this span, so log lines and emitted events carry it."""
        span = self.begin(name, kind=kind, parent=parent, attributes=attributes)
        token = current_trace.set(span.context)
        try:
            yield span
        except Exception as exc:
            if span._otel is not None:
                _record_error(span._otel, exc)
            raise
        finally:
            current_trace.reset(token)
            if span._otel is not None:
                span._otel.end()

    def begin(
        self,
        name: str,
        *,
        kind: str = "internal",
        parent: TraceContext | None = None,
        attributes: Mapping[str, Any] | None = None,
        start_time_ns: int | None = None,
    ) -> Span:
        """A span that the caller ends with :meth:`Span.end` (it does not become the current one)."""
        if self._otel is None:
            if parent is None:
                return Span(TraceContext(new_trace_id(), new_span_id()))
            return Span(TraceContext(parent.trace_id, new_span_id(), parent.sampled))
        otel_span = self._otel.start_span(
            name,
            context=_otel_parent(parent),
            kind=_otel_kind(kind),
            attributes=dict(attributes) if attributes else None,
            start_time=start_time_ns,
        )
        ids = otel_span.get_span_context()
        context = TraceContext(f"{ids.trace_id:032x}", f"{ids.span_id:016x}", ids.trace_flags.sampled)
        return Span(context, otel_span)

    def shutdown(self) -> None:
        """Flush and stop the exporter (at service stop)."""
        if self.provider is not None:
            self.provider.shutdown()


def tracer_from_env(service: str, env: EnvReader) -> Tracer:
    """The tracer of ``service``: OpenTelemetry export when the ``OTEL_*`` variables ask for it, else W3C
    propagation only. Raises ConfigError (naming the variable) for an unknown exporter or a missing SDK."""
    exporters = env.text("OTEL_TRACES_EXPORTER").lower()
    endpoint = env.text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.text("OTEL_EXPORTER_OTLP_ENDPOINT")
    if env.flag("OTEL_SDK_DISABLED", False) or exporters == "none" or not (exporters or endpoint):
        return Tracer(service)
    return Tracer(service, _provider(service, exporters or "otlp", env))


def _provider(service: str, exporters: str, env: EnvReader) -> Any:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        raise ConfigError(
            "OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT ask for OpenTelemetry, "
            "which is not installed: pip install 'crm[otel]'"
        ) from None
    processors = []
    for name in (n.strip() for n in exporters.split(",")):
        if name == "otlp":
            processors.append(BatchSpanProcessor(_otlp_exporter(env)))
        elif name == "console":
            # stdout as it is now (the exporter's default is the one of when its module was imported)
            processors.append(BatchSpanProcessor(ConsoleSpanExporter(service_name=service, out=sys.stdout)))
        elif name != "none":
            raise ConfigError(f"OTEL_TRACES_EXPORTER must be otlp, console or none, got {name!r}")
    # Our service name wins over OTEL_SERVICE_NAME: the embedded mode runs five services in one process.
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def _otlp_exporter(env: EnvReader) -> Any:
    protocol = env.text("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf").lower()
    traces_endpoint = env.text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = env.text("OTEL_EXPORTER_OTLP_ENDPOINT")
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

            return Grpc(endpoint=traces_endpoint or base or None)
        if protocol != "http/protobuf":
            raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, got {protocol!r}")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http
    except ImportError:
        package = "opentelemetry-exporter-otlp-proto-" + ("grpc" if protocol == "grpc" else "http")
        raise ConfigError(f"OTLP export over {protocol} needs {package}: pip install 'crm[otel]'") from None
    endpoint = traces_endpoint or (f"{base.rstrip('/')}/v1/traces" if base else None)
    return Http(endpoint=endpoint)


def _otel_parent(parent: TraceContext | None) -> Any:
    from opentelemetry import context as otel_context
    from opentelemetry import trace as otel_trace

    if parent is None:
        return otel_context.Context()  # a root span: never the caller's ambient OTel context
    remote = otel_trace.SpanContext(
        int(parent.trace_id, 16),
        int(parent.span_id, 16),
        is_remote=True,
        trace_flags=otel_trace.TraceFlags(1 if parent.sampled else 0),
    )
    return otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(remote))


def _otel_kind(kind: str) -> Any:
    from opentelemetry.trace import SpanKind

    return {
        "server": SpanKind.SERVER,
        "client": SpanKind.CLIENT,
        "producer": SpanKind.PRODUCER,
        "consumer": SpanKind.CONSUMER,
    }.get(kind, SpanKind.INTERNAL)


def _record_error(otel_span: Any, error: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    otel_span.record_exception(error)
    otel_span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500]))
