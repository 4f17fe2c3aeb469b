"""The envelope on the wire: JSON value, aggregate key, CloudEvents headers; garbage is recognised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.contracts import EventType, make_event
from crm.contracts.payloads.customers import CustomerCreated
from crm.contracts.payloads.users import UserCreated
from crm.platform.events import Envelope, EnvelopeError


def user_created() -> Envelope:
    payload = UserCreated(user_id="u1", email="a@b.c", name="A", role="USER", created_at=datetime.now(UTC))
    return make_event(EventType.USER_CREATED, payload, subject="u1", source="auth-service")


def test_an_event_lands_on_its_types_topic_keyed_by_the_aggregate() -> None:
    event = user_created()
    assert event.topic == "user.events"
    assert event.subject == "u1"
    assert event.data["userId"] == "u1", "payloads are camelCase on the wire"


def test_the_envelope_survives_a_round_trip_with_its_headers() -> None:
    event = user_created()
    headers = event.headers()
    names = dict(headers)
    assert names["ce_type"] == b"USER_CREATED" and names["ce_id"] == event.id.encode()
    assert names["ce_specversion"] == b"1.0" and names["ce_source"] == b"auth-service"
    decoded = Envelope.from_record("user.events", event.to_json(), headers)
    assert decoded.id == event.id and decoded.data == event.data and decoded.type == event.type


def test_a_payload_of_the_wrong_model_is_refused() -> None:
    with pytest.raises(TypeError):
        make_event(
            EventType.USER_CREATED, CustomerCreated(customer_id="c", name="n"), subject="c", source="x"
        )


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"[]",
        b'{"id": "x"}',
        b'{"id":"1","type":"T","source":"s","subject":"s","time":"yesterday","data":{}}',
        None,
    ],
)
def test_garbage_is_an_envelope_error(value: bytes | None) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_record("user.events", value, [])
