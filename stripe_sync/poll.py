"""`stripe poll`: pull Stripe's events list into the same store as webhooks.

A cursor (`stripe_sync_cursors`, name `events_list`) remembers the newest event
stored; the next pull asks for events created at or after it (inclusive, so
same-second siblings are not missed; repeats are skipped by event id). The
cursor only moves after a complete pull, and only forward: a list that failed
part-way may miss older events, and Stripe lists newest first. Stripe is
listed with no transaction open; the pull is stored in one short transaction,
then the customers with new pending events are processed, each on its own.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.audit import Action, Actor
from core.audit import Outcome as ActionOutcome
from db.models import StripeSyncCursor
from stripe_sync.client import StripeClient
from stripe_sync.ingest import Outcome, store_event
from stripe_sync.processing import process_pending
from stripe_sync.snapshots import EventsList

CURSOR_NAME = "events_list"


@dataclass(frozen=True)
class Cursor:
    last_event_id: str | None
    last_event_created_at: datetime | None


@dataclass(frozen=True)
class PollResult:
    listed: int
    stored: int  # new rows, Pending
    ignored: int  # new rows without a customer
    malformed: int  # new rows stored as Failed
    skipped: int  # already stored (payload mismatches included)
    payload_mismatches: int
    complete: bool
    cursor: Cursor
    customers: tuple[str, ...] = ()  # with new Pending events, to process


@dataclass(frozen=True)
class ProcessingFailure:
    customer_id: str
    error: str


@dataclass(frozen=True)
class ProcessingSummary:
    processed: int = 0
    waiting: int = 0  # no subscription carries the customer yet: its events stay Pending
    failed: tuple[ProcessingFailure, ...] = ()


def read_cursor(conn: Connection) -> Cursor:
    row = conn.execute(
        select(StripeSyncCursor.last_event_id, StripeSyncCursor.last_event_created_at).where(
            StripeSyncCursor.name == CURSOR_NAME
        )
    ).first()
    return Cursor(row.last_event_id, row.last_event_created_at) if row else Cursor(None, None)


def _advance_cursor(conn: Connection, cursor: Cursor, now: datetime) -> None:
    """Only forward: a poll that listed before another one stored must not
    move the cursor back (it would only re-list, but for nothing)."""
    values = {
        "last_event_id": cursor.last_event_id,
        "last_event_created_at": cursor.last_event_created_at,
        "updated_at": now,
    }
    stored = StripeSyncCursor.__table__.c.last_event_created_at
    conn.execute(
        pg_insert(StripeSyncCursor)
        .values(name=CURSOR_NAME, **values)
        .on_conflict_do_update(
            index_elements=["name"],
            set_=values,
            where=stored.is_(None) | (stored <= cursor.last_event_created_at),
        )
    )


def poll_events(engine: Engine, client: StripeClient, now: datetime) -> PollResult:
    """One pull: the cursor is read, Stripe is listed with no transaction
    open, and what was listed is stored in one short transaction. Two polls
    at once may list the same events: each is stored once (by event id)."""
    with engine.connect() as conn:
        cursor = read_cursor(conn)
    listed = client.events(cursor.last_event_created_at)
    with engine.begin() as conn:
        return store_listed(conn, listed, cursor, now)


def store_listed(conn: Connection, listed: EventsList, cursor: Cursor, now: datetime) -> PollResult:
    """Store a pull made from `cursor`, in the caller's transaction."""
    counts: Counter[Outcome] = Counter()
    customers: set[str] = set()
    for event in listed.events:
        # No original bytes from a list: hash the SDK's re-serialisation.
        raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        outcome = store_event(conn, raw, event, now)
        counts[outcome.outcome] += 1
        if outcome.outcome is Outcome.stored and outcome.customer_id:
            customers.add(outcome.customer_id)
    if listed.complete and listed.events:
        newest = listed.events[-1]
        cursor = Cursor(newest["id"], datetime.fromtimestamp(int(newest["created"]), UTC))
        _advance_cursor(conn, cursor, now)
    return PollResult(
        listed=len(listed.events),
        stored=counts[Outcome.stored],
        ignored=counts[Outcome.ignored],
        malformed=counts[Outcome.malformed],
        skipped=counts[Outcome.duplicate] + counts[Outcome.payload_mismatch],
        payload_mismatches=counts[Outcome.payload_mismatch],
        complete=listed.complete,
        cursor=cursor,
        customers=tuple(sorted(customers)),
    )


def process_customers(engine: Engine, client: StripeClient, customers: tuple[str, ...]) -> ProcessingSummary:
    """Process each customer's pending events; one failure does not stop the others."""
    processed, waiting, failed = 0, 0, []
    for customer_id in customers:
        try:
            result = process_pending(engine, client, customer_id)
        except Exception as error:  # reported per customer; its events stay Pending for the next try
            failed.append(
                ProcessingFailure(
                    customer_id, str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                )
            )
            continue
        if result is None:
            waiting += 1
        else:
            processed += 1
    return ProcessingSummary(processed, waiting, tuple(failed))


def poll_and_process(
    engine: Engine, client: StripeClient, now: datetime, *, actor: Actor | None = None
) -> tuple[PollResult, ProcessingSummary]:
    """`stripe poll`: one pull, then its customers' processing. With an
    `actor` the poll is one row of the audit trail, written when both are
    done (they commit in transactions of their own)."""
    try:
        result = poll_events(engine, client, now)
        processing = process_customers(engine, client, result.customers)
    except Exception as error:
        if actor is not None:
            actor.record_failure(engine, Action.poll, error)
        raise
    if actor is not None:
        failed = not result.complete or bool(processing.failed)
        details = {
            "listed": result.listed,
            "stored": result.stored,
            "complete": result.complete,
            "customers": len(result.customers),
            "processed": processing.processed,
            "processing_failed": len(processing.failed),
        }
        with engine.begin() as conn:
            actor.record(
                conn, Action.poll, outcome=ActionOutcome.failed if failed else ActionOutcome.succeeded, details=details
            )
    return result, processing
