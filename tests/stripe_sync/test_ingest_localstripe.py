"""Events from the emulator into the store: signed webhooks it sends, and the
events poll with its cursor; plus recorded event types it never emits."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine, select

from db.models import StripeEvent, StripeSyncCursor
from stripe_sync.ingest import Outcome
from stripe_sync.poll import Cursor, poll_events, read_cursor, store_listed
from stripe_sync.snapshots import EventsList
from tests.factories import NOW
from tests.stripe_emulator import Emulator
from tests.stripe_sync.recorded_stripe import FIXTURES
from tests.stripe_sync.webhook_support import SECRET, post, running_server, sign


def _stored(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {row.id: row for row in conn.execute(select(StripeEvent))}


def _wait_for(engine: Engine, expected_types: set[str], customer_id: str | None, seconds: float = 10) -> dict[str, Any]:
    """The stored rows once every expected type arrived for the customer (a
    reset emulator may still deliver events of an earlier test: ignore them)."""
    deadline = time.monotonic() + seconds
    while True:
        rows = _stored(engine)
        arrived = {
            row.event_type for row in rows.values() if customer_id is None or row.stripe_customer_id == customer_id
        }
        if expected_types <= arrived or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_receiver_stores_what_localstripe_sends_signed(localstripe: Emulator, engine: Engine) -> None:
    with running_server(engine) as server:
        localstripe.configure_webhook("receiver", server.url, SECRET)
        localstripe.standard_catalog()
        customer_id = localstripe.customer_with_card(name="Acme")
        localstripe.subscribe(customer_id)
        wanted = {"customer.created", "customer.subscription.created", "invoice.payment_succeeded"}
        rows = _wait_for(engine, wanted, customer_id)
        rows = _wait_for(engine, {"plan.created"}, None)
    by_type = {row.event_type: row for row in rows.values() if row.stripe_customer_id in (customer_id, None)}
    assert wanted | {"plan.created"} <= set(by_type)
    for event_type in ("customer.created", "customer.subscription.created", "invoice.payment_succeeded"):
        row = by_type[event_type]
        assert (row.status, row.stripe_customer_id) == ("Pending", customer_id)
        assert row.payload_hash and row.stripe_created_at is not None and row.api_version
    assert by_type["plan.created"].status == "Ignored"
    assert all(row.error is None for row in rows.values())


def test_a_wrong_secret_at_stripe_stores_nothing(localstripe: Emulator, engine: Engine) -> None:
    with running_server(engine) as server:
        localstripe.configure_webhook("wrong-secret", server.url, "whsec_not_ours")
        localstripe.customer_with_card()
        time.sleep(2)  # localstripe posts about 1 s after each event
    assert _stored(engine) == {}


def test_poll_stores_new_events_once_and_moves_the_cursor(localstripe: Emulator, engine: Engine) -> None:
    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card()
    localstripe.subscribe(customer_id)
    client = localstripe.client()

    first = poll_events(engine, client, NOW)
    assert first.complete and first.listed > 0
    assert first.stored + first.ignored == first.listed and first.skipped == 0
    assert first.ignored >= 3  # product and plan events carry no customer
    stored = _stored(engine)
    assert len(stored) == first.listed
    newest = max(stored.values(), key=lambda row: (row.stripe_created_at, row.id))
    with engine.connect() as conn:
        assert read_cursor(conn).last_event_id == newest.id
        assert read_cursor(conn).last_event_created_at == newest.stripe_created_at

    again = poll_events(engine, client, NOW)
    assert again.stored == 0 and again.skipped == again.listed > 0  # the cursor second is re-read, nothing doubles

    localstripe.sdk.v1.customers.create(params={"name": "Later"})
    later = poll_events(engine, client, NOW)
    assert later.stored == 1
    assert len(_stored(engine)) == first.listed + 1
    with engine.connect() as conn:
        assert conn.execute(select(StripeSyncCursor.name)).all() == [("events_list",)]


def test_the_cursor_only_moves_forward(engine: Engine) -> None:
    """Two polls at once list from the same cursor; the one that lists earlier
    may store later: the cursor keeps the newer of the two."""
    newer = {"id": "evt_newer", "type": "customer.created", "created": int(NOW.timestamp()), "data": {"object": {}}}
    older = {**newer, "id": "evt_older", "created": int(NOW.timestamp()) - 60}
    with engine.begin() as conn:
        store_listed(conn, EventsList([older, newer]), Cursor(None, None), NOW)
        store_listed(conn, EventsList([older]), Cursor(None, None), NOW)
        assert read_cursor(conn).last_event_id == "evt_newer"


def test_webhook_and_poll_share_one_store(localstripe: Emulator, engine: Engine) -> None:
    with running_server(engine) as server:
        localstripe.configure_webhook("shared", server.url, SECRET)
        customer_id = localstripe.customer_with_card()
        rows = _wait_for(engine, {"customer.created", "customer.updated"}, customer_id)
    delivered = {row_id for row_id, row in rows.items() if row.stripe_customer_id == customer_id}
    result = poll_events(engine, localstripe.client(), NOW)
    assert result.stored == 0 and result.skipped == result.listed == len(delivered) == 2
    # The list re-serialises the event, so its bytes differ from the delivery: reported, row kept.
    assert result.payload_mismatches == result.listed


def test_recorded_event_types_localstripe_never_sends(engine: Engine) -> None:
    updated = (FIXTURES / "event_subscription_updated.json").read_bytes()
    credit_note = (FIXTURES / "event_credit_note_created.json").read_bytes()
    with running_server(engine) as server:
        assert post(server.url, updated, [sign(updated)])[0] == 200
        assert post(server.url, credit_note, [sign(credit_note)])[0] == 200
    rows = _stored(engine)
    subscription_updated = rows["evt_1RsubUpdatedNordlys"]
    assert (subscription_updated.status, subscription_updated.stripe_customer_id) == ("Pending", "cus_nordlys")
    assert subscription_updated.payload == json.loads(updated)
    assert subscription_updated.api_version == "2025-09-30.clover"
    assert rows["evt_1RcreditNoteCreated"].status == "Pending"  # a type the ledger does not follow is still kept


def test_outcome_values_are_the_logged_words() -> None:
    assert [outcome.value for outcome in Outcome] == ["stored", "ignored", "duplicate", "payload-mismatch", "malformed"]


def test_deliveries_are_processed_per_customer_after_the_answer(localstripe: Emulator, engine: Engine) -> None:
    from db.models import Subscription
    from stripe_sync.processing import process_pending
    from stripe_sync.webhook import CustomerRuns
    from tests import factories

    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card(name="Acme")
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=customer_id)
    client = localstripe.client()
    runs = CustomerRuns(lambda customer: process_pending(engine, client, customer))
    with running_server(engine, on_stored=runs.submit) as server:
        localstripe.configure_webhook("processing", server.url, SECRET)
        subscription_id = localstripe.subscribe(customer_id)
        _wait_for(engine, {"customer.subscription.created", "invoice.payment_succeeded"}, customer_id)
        runs.wait(10)
    with engine.connect() as conn:
        row = conn.execute(select(Subscription).where(Subscription.tenant_id == tenant.id)).one()
        pending = conn.execute(
            select(StripeEvent.id).where(StripeEvent.stripe_customer_id == customer_id, StripeEvent.status == "Pending")
        ).all()
    assert (row.plan, row.stripe_subscription_id, row.current_price_currency) == ("Standard", subscription_id, "DKK")
    assert pending == []
