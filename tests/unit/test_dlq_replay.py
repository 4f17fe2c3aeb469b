"""What `crm kafka dlq replay` re-publishes: the original record, addressed to the consumer group that
dead-lettered it, whatever replays it went through before."""

from __future__ import annotations

from crm.platform.bus import REPLAY_FOR, IncomingRecord, addressed_to
from crm.platform.bus.dead_letters import original


def dead_letter(headers: list[tuple[str, bytes]], offset: int = 3) -> IncomingRecord:
    return IncomingRecord("user.events.dlq", 0, offset, b"k", b"{}", headers)


def received(record: IncomingRecord) -> IncomingRecord:
    out = original(record)
    return IncomingRecord(out.topic, 0, 9, out.key, out.value, out.headers)


def test_a_replayed_dead_letter_is_for_the_group_that_dead_lettered_it_only() -> None:
    copy = received(
        dead_letter(
            [("ce_type", b"USER_CREATED"), ("dlq_consumer", b"customer-service"), ("dlq_reason", b"x")]
        )
    )
    assert copy.topic == "user.events"
    assert dict(copy.headers)[REPLAY_FOR] == b"customer-service"
    assert not any(k.startswith("dlq_") for k, _ in copy.headers)
    assert addressed_to(copy, "customer-service") and not addressed_to(copy, "analytics-service")


def test_a_dead_letter_replayed_again_is_addressed_once_to_its_latest_group() -> None:
    first = received(dead_letter([("ce_type", b"USER_CREATED"), ("dlq_consumer", b"customer-service")]))
    # customer-service dead-letters the copy again: its headers come back with the new dlq_* ones
    again = received(dead_letter([*first.headers, ("dlq_consumer", b"customer-service")], offset=8))
    names = [k for k, _ in again.headers]
    assert names.count(REPLAY_FOR) == 1 and names.count("crm_replayed_from") == 1
    assert dict(again.headers)["crm_replayed_from"] == b"user.events.dlq@8"


def test_records_that_are_no_replay_and_old_dead_letters_naming_no_group_go_to_every_group() -> None:
    plain = IncomingRecord("user.events", 0, 1, b"k", b"{}", [("ce_type", b"USER_CREATED")])
    assert addressed_to(plain, "customer-service")
    assert addressed_to(received(dead_letter([("dlq_reason", b"x")])), "analytics-service")
