"""Store each Stripe event once (docs/rules.md R1-R3): the inbox and archive.

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
import math
import re
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
from stripe_sync.stripe_mapping import customer_of_event

log = logging.getLogger(__name__)

MALFORMED_PREFIX = "evt_malformed_"
# What a Stripe event's identifying fields look like. Anything else (a NUL
# PostgreSQL cannot store, an id too long for the key's index, control
# characters) makes the body malformed: it is kept under its hash id instead.
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_.\-]{1,251}")
_WORD = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII without spaces: types, API versions, customer ids
MAX_DEPTH = 64  # Stripe events nest about ten levels
_LATEST_CREATED = 253402300799  # 9999-12-31T23:59:59Z, Python's last representable second
CLAIMED_ID_CHARS = 80


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
    claimed_id: str | None = None  # a malformed body's own id (shortened), when it had one

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
    """The JSON value of a body, or None when it is not JSON (NaN and
    Infinity are not JSON; nesting too deep for the parser counts as not JSON)."""
    try:
        return json.loads(raw_body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def malformation(event: Any) -> str | None:
    """Why a parsed body is not a usable event, or None when it is."""
    if event is None:
        return "body is not JSON"
    if not isinstance(event, Mapping):
        return "body is not a JSON object"
    if not isinstance(event.get("id"), str) or not event["id"].startswith("evt_"):
        return "event has no evt_ id"
    if not _EVENT_ID.fullmatch(event["id"]):
        return "event id is not a Stripe event id"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return "event has no type"
    return _field_problem(event)


def _field_problem(event: Mapping[str, Any]) -> str | None:
    if not _WORD.fullmatch(event["type"]):
        return "event type is not a Stripe event type"
    api_version = event.get("api_version")
    if isinstance(api_version, str) and not _WORD.fullmatch(api_version):
        return "event api_version is not a Stripe API version"
    if "created" in event and event["created"] is not None and _created(event) is None:
        return "event created is not a time"
    if event.get("data") is not None and not isinstance(event["data"], Mapping):
        return "event data is not an object"
    customer_id = customer_of_event(event)
    if customer_id is not None and not _WORD.fullmatch(customer_id):
        return "event customer is not a Stripe customer id"
    if _nested_deeper_than(event, MAX_DEPTH):
        return "event is nested too deeply"
    return None


def _nested_deeper_than(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        if children and depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _unstorable(event: Any) -> str | None:
    """What in a parsed body PostgreSQL's jsonb refuses, or None."""
    pending: list[Any] = [event]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "a string holds \\u0000"
            if not item.isascii() and not _encodable(item):
                return "a string holds a lone surrogate"
        elif isinstance(item, float) and not math.isfinite(item):
            return "a number is out of range"
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def store_event(
    conn: Connection, raw_body: bytes, event: Any, now: datetime, *, savepoint: bool = True
) -> StoreOutcome:
    """Store one event (parsed from `raw_body`, or None when it is not JSON).
    Runs in the caller's transaction; the caller commits. The insert runs in
    a savepoint, so a value PostgreSQL refuses that the checks did not foresee
    is kept as Failed instead of failing the transaction. A caller whose
    transaction holds this event alone may pass savepoint=False (two
    statements less) and retry with it on a DataError."""
    digest = payload_hash(raw_body)
    problem = malformation(event)
    if problem is not None:
        return _store_malformed(conn, event, digest, problem, now)

    event_id, event_type = event["id"], event["type"]
    unstorable = _unstorable(event)
    if unstorable is not None:
        return _store_malformed(
            conn, None, digest, f"payload not storable: {unstorable}", now, event_id=event_id, event_type=event_type
        )
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
    insert = (
        pg_insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(StripeEvent.id)
    )
    if not savepoint:
        inserted = conn.execute(insert).first()
    else:
        try:
            with conn.begin_nested():
                inserted = conn.execute(insert).first()
        except DataError as error:
            reason = f"payload not storable: {str(error.orig).splitlines()[0]}"
            return _store_malformed(conn, None, digest, reason, now, event_id=event_id, event_type=event_type)
    if inserted is not None:
        return StoreOutcome(event_id, event_type, customer_id, Outcome.stored if customer_id else Outcome.ignored)

    stored_hash = conn.execute(select(StripeEvent.payload_hash).where(StripeEvent.id == event_id)).scalar_one_or_none()
    if stored_hash is not None and stored_hash != digest:
        # Reported through the outcome (the webhook logs it); the row is kept.
        return StoreOutcome(event_id, event_type, customer_id, Outcome.payload_mismatch)
    return StoreOutcome(event_id, event_type, customer_id, Outcome.duplicate)


def _created(event: Mapping[str, Any]) -> datetime | None:
    """The event's `created` time; None when missing or not a time."""
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    if not (math.isfinite(created) and 0 <= created <= _LATEST_CREATED):
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
    claimed_id = _claimed_id(event) if event_id is None else None
    event_id = event_id or f"{MALFORMED_PREFIX}{digest[:24]}"
    if event_type is None:
        claimed = event.get("type") if isinstance(event, Mapping) else None
        event_type = claimed if isinstance(claimed, str) and _WORD.fullmatch(claimed) else "unknown"
    if event is not None and (_nested_deeper_than(event, MAX_DEPTH) or _unstorable(event) is not None):
        event = None  # kept as evidence by its hash only
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
            conn.execute(
                pg_insert(StripeEvent)
                .values(**{**row, "payload": null()})
                .on_conflict_do_nothing(index_elements=["id"])
            )
    # Debug only: the caller reports the outcome (the webhook's line per delivery, poll's counts).
    log.debug("malformed Stripe event stored as %s: %s", event_id, problem)
    return StoreOutcome(event_id, event_type, None, Outcome.malformed, problem, claimed_id)


def _claimed_id(event: Any) -> str | None:
    claimed = event.get("id") if isinstance(event, Mapping) else None
    if not isinstance(claimed, str) or not claimed:
        return None
    shown = claimed if len(claimed) <= CLAIMED_ID_CHARS else claimed[:CLAIMED_ID_CHARS] + "..."
    # Lone surrogates as \udXXX: a log line must always be writable as UTF-8.
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")
