"""Store each Stripe event once (domain.md 4.2, phase 1): the inbox and archive.

One path for every source (webhook, `stripe poll`): the event id is the key
(`INSERT ... ON CONFLICT DO NOTHING`), so redeliveries and races store one
row. A redelivery with a different payload is reported and changes nothing.
Unknown types are stored like any other; malformed bodies are stored as
Failed under a synthetic id, never dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError

from db.enums import StripeEventStatus
from db.models import StripeEvent
from stripe_sync.client import customer_of_event

log = logging.getLogger(__name__)

MALFORMED_PREFIX = "evt_malformed_"


class Outcome(StrEnum):
    stored = "stored"  # new Pending row
    ignored = "ignored"  # new row without a customer: Ignored at once
    duplicate = "duplicate"  # already stored with the same payload
    payload_mismatch = "payload-mismatch"  # already stored, different payload: row kept as it was
    malformed = "malformed"  # stored as Failed with the error


@dataclass(frozen=True)
class StoreOutcome:
    event_id: str
    event_type: str
    customer_id: str | None
    outcome: Outcome
    error: str | None = None

    @property
    def is_new(self) -> bool:
        return self.outcome in (Outcome.stored, Outcome.ignored, Outcome.malformed)

    @property
    def needs_processing(self) -> bool:
        """Worth running processing for: a customer with (possibly) pending events."""
        return self.customer_id is not None and self.outcome in (
            Outcome.stored,
            Outcome.duplicate,
            Outcome.payload_mismatch,
        )


def payload_hash(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def parse_event(raw_body: bytes) -> Any:
    """The JSON value of a body, or None when it is not JSON."""
    try:
        return json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def malformation(event: Any) -> str | None:
    """Why a parsed body is not a usable event, or None when it is."""
    if event is None:
        return "body is not JSON"
    if not isinstance(event, Mapping):
        return "body is not a JSON object"
    if not isinstance(event.get("id"), str) or not event["id"].startswith("evt_"):
        return "event has no evt_ id"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return "event has no type"
    return None


def store_event(conn: Connection, raw_body: bytes, event: Any, now: datetime) -> StoreOutcome:
    """Store one event (parsed from `raw_body`, or None when it is not JSON).
    Runs in the caller's transaction; the caller commits."""
    digest = payload_hash(raw_body)
    problem = malformation(event)
    if problem is not None:
        return _store_malformed(conn, event, digest, problem, now)

    event_id, event_type = event["id"], event["type"]
    customer_id = customer_of_event(event)
    status = StripeEventStatus.Pending if customer_id else StripeEventStatus.Ignored
    values = {
        "id": event_id,
        "created_at": now,
        "event_type": event_type,
        "status": status,
        "processed_at": None if customer_id else now,
        "stripe_customer_id": customer_id,
        "payload": event,
        "api_version": event.get("api_version") if isinstance(event.get("api_version"), str) else None,
        "payload_hash": digest,
        "stripe_created_at": _created(event),
    }
    try:
        with conn.begin_nested():
            inserted = conn.execute(
                pg_insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(StripeEvent.id)
            ).first()
    except DataError as error:  # e.g. a \u0000 that jsonb refuses
        return _store_malformed(conn, None, digest, f"payload not storable: {str(error.orig).splitlines()[0]}", now, event_id=event_id, event_type=event_type)
    if inserted is not None:
        return StoreOutcome(event_id, event_type, customer_id, Outcome.stored if customer_id else Outcome.ignored)

    stored_hash = conn.execute(select(StripeEvent.payload_hash).where(StripeEvent.id == event_id)).scalar_one_or_none()
    if stored_hash is not None and stored_hash != digest:
        # Reported through the outcome (the webhook logs it); the row is kept.
        return StoreOutcome(event_id, event_type, customer_id, Outcome.payload_mismatch)
    return StoreOutcome(event_id, event_type, customer_id, Outcome.duplicate)


def _created(event: Mapping[str, Any]) -> datetime | None:
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    return datetime.fromtimestamp(created, UTC)


def _store_malformed(
    conn: Connection,
    event: Any,
    digest: str,
    problem: str,
    now: datetime,
    *,
    event_id: str | None = None,
    event_type: str | None = None,
) -> StoreOutcome:
    """Keep the body's evidence under an id derived from its hash, so the same
    bad delivery is stored once."""
    event_id = event_id or f"{MALFORMED_PREFIX}{digest[:24]}"
    if event_type is None:
        claimed = event.get("type") if isinstance(event, Mapping) else None
        event_type = claimed if isinstance(claimed, str) and claimed else "unknown"
    row = {
        "id": event_id,
        "created_at": now,
        "event_type": event_type,
        "status": StripeEventStatus.Failed,
        "processed_at": now,
        "payload": event if event is not None else null(),
        "error": problem,
        "payload_hash": digest,
    }
    try:
        with conn.begin_nested():
            conn.execute(pg_insert(StripeEvent).values(**row).on_conflict_do_nothing(index_elements=["id"]))
    except DataError:
        with conn.begin_nested():
            conn.execute(pg_insert(StripeEvent).values(**{**row, "payload": null()}).on_conflict_do_nothing(index_elements=["id"]))
    log.warning("malformed Stripe event stored as %s: %s", event_id, problem)
    return StoreOutcome(event_id, event_type, None, Outcome.malformed, problem)

