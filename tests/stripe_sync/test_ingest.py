"""Storing events once (docs/rules.md R1-R3)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, select

from db.models import StripeEvent
from stripe_sync.ingest import Outcome, parse_event, store_event
from tests.factories import NOW


def _event(event_id: str = "evt_1", event_type: str = "customer.subscription.updated", **obj: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": 1778241600,
        "api_version": "2025-09-30.clover",
        "data": {"object": {"object": "subscription", "id": "sub_1", "customer": "cus_1", **obj}},
    }


def _store(conn: Connection, event: Any) -> Any:
    raw = event if isinstance(event, bytes) else json.dumps(event).encode()
    return store_event(conn, raw, parse_event(raw), NOW)


def _row(conn: Connection, event_id: str) -> Any:
    return conn.execute(select(StripeEvent).where(StripeEvent.id == event_id)).one()


def test_new_event_with_a_customer_is_pending_with_hash_and_created(conn: Connection) -> None:
    event = _event()
    outcome = _store(conn, event)
    assert (outcome.outcome, outcome.customer_id, outcome.needs_processing) == (Outcome.stored, "cus_1", True)
    row = _row(conn, "evt_1")
    assert (row.status, row.processed_at, row.stripe_customer_id) == ("Pending", None, "cus_1")
    assert row.payload_hash == hashlib.sha256(json.dumps(event).encode()).hexdigest()
    assert row.stripe_created_at.isoformat() == "2026-05-08T12:00:00+00:00"
    assert row.api_version == "2025-09-30.clover"
    assert row.payload == event and row.created_at == NOW and row.error is None


def test_customer_object_event_uses_its_own_id(conn: Connection) -> None:
    event = _event(event_type="customer.created")
    event["data"]["object"] = {"object": "customer", "id": "cus_self"}
    assert _store(conn, event).customer_id == "cus_self"


def test_event_without_customer_is_ignored_at_once(conn: Connection) -> None:
    outcome = _store(conn, _event("evt_product", "product.created", customer=None))
    assert outcome.outcome is Outcome.ignored and not outcome.needs_processing
    row = _row(conn, "evt_product")
    assert (row.status, row.processed_at, row.stripe_customer_id) == ("Ignored", NOW, None)


def test_customer_id_without_prefix_counts_as_none(conn: Connection) -> None:
    assert _store(conn, _event("evt_odd", customer="acct_123")).outcome is Outcome.ignored


def test_redelivery_is_stored_once(conn: Connection) -> None:
    _store(conn, _event())
    again = _store(conn, _event())
    assert again.outcome is Outcome.duplicate and again.needs_processing
    assert conn.execute(select(StripeEvent.id).where(StripeEvent.id == "evt_1")).all() == [("evt_1",)]


def test_redelivery_with_another_payload_is_reported_and_changes_nothing(conn: Connection) -> None:
    first = _event(status="active")
    _store(conn, first)
    outcome = _store(conn, _event(status="past_due"))
    assert outcome.outcome is Outcome.payload_mismatch
    row = _row(conn, "evt_1")
    assert row.payload == first
    assert row.payload_hash == hashlib.sha256(json.dumps(first).encode()).hexdigest()


def test_stored_null_hash_is_never_a_mismatch(conn: Connection) -> None:
    _store(conn, _event())
    conn.execute(StripeEvent.__table__.update().where(StripeEvent.id == "evt_1").values(payload_hash=None))
    assert _store(conn, _event(status="past_due")).outcome is Outcome.duplicate


def test_unknown_type_is_stored_like_any_other(conn: Connection) -> None:
    outcome = _store(conn, _event("evt_new", "billing_portal.session.created"))
    assert outcome.outcome is Outcome.stored
    assert _row(conn, "evt_new").event_type == "billing_portal.session.created"


def test_malformed_bodies_are_stored_failed_under_a_hash_id(conn: Connection) -> None:
    body = b"{not json"
    outcome = _store(conn, body)
    digest = hashlib.sha256(body).hexdigest()
    assert outcome.outcome is Outcome.malformed and outcome.event_id == f"evt_malformed_{digest[:24]}"
    row = _row(conn, outcome.event_id)
    assert (row.status, row.error, row.payload, row.payload_hash, row.event_type) == (
        "Failed",
        "body is not JSON",
        None,
        digest,
        "unknown",
    )
    assert _store(conn, body).event_id == outcome.event_id  # the same bad body is stored once
    assert conn.execute(select(StripeEvent.id).where(StripeEvent.status == "Failed")).all() == [(outcome.event_id,)]


def test_json_without_id_or_type_is_malformed(conn: Connection) -> None:
    no_id = _store(conn, {"type": "customer.created", "data": {}})
    no_type = _store(conn, {"id": "evt_notype", "data": {}})
    array = _store(conn, [1, 2])
    assert [o.error for o in (no_id, no_type, array)] == [
        "event has no evt_ id",
        "event has no type",
        "body is not a JSON object",
    ]
    assert _row(conn, no_id.event_id).event_type == "customer.created"
    assert _row(conn, array.event_id).payload == [1, 2]


def test_payload_postgres_cannot_store_is_kept_as_failed(conn: Connection) -> None:
    outcome = _store(conn, _event("evt_nul", note="a\u0000b"))
    assert outcome.outcome is Outcome.malformed and outcome.event_id == "evt_nul"
    row = _row(conn, "evt_nul")
    assert row.status == "Failed" and row.payload is None and row.error.startswith("payload not storable")
