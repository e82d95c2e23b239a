"""Sync with Stripe, archive replay and drift acknowledgement as admin actions:
the core functions the console calls and the CLI commands over them
(docs/rules.md R54 acknowledging drift, R67-R69 the sync, archived events and
their replay, R101 the order of refusals)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.errors import Forbidden, NotFound, OperatorError, StripeNotConfigured
from core.settings import Settings
from db.enums import SubscriptionPlan
from db.models import BillingEvent, StripeEvent, Subscription
from stripe_sync import archive, sync
from stripe_sync.errors import CurrencyMismatch
from tests import factories
from tests.cli_run import run_cli_captured
from tests.factories import NOW
from tests.stripe_sync.fake_stripe import API_VERSION, CUSTOMER, FakeStripe
from tests.stripe_sync.stripe_events import event, items, price

CONFIGURED = Settings(stripe_api_key="sk_test_ledger", operator="ops")
UNCONFIGURED = Settings(operator="ops")


def cust_only(engine: Engine, customer: str = CUSTOMER, **changes: Any) -> factories.TenantRef:
    with engine.begin() as conn:
        return factories.tenant(conn, plan="Basis", stripe_customer_id=customer, **changes)


def billing_rows(engine: Engine, tenant: factories.TenantRef) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(BillingEvent.__table__)
                .where(BillingEvent.tenant_id == tenant.id)
                .order_by(BillingEvent.occurred_at, BillingEvent.stripe_event_id)
            )
        )


def archived(engine: Engine, payload: dict, at) -> None:
    with engine.begin() as conn:
        factories.stripe_event(conn, payload, status="Processed", customer_id=CUSTOMER, received_at=at)
        conn.execute(StripeEvent.__table__.update().where(StripeEvent.id == payload["id"]).values(processed_at=at))


def archived_created(id: str, at) -> dict:
    return event(
        "customer.subscription.created",
        id=id,
        created=at,
        obj={"currency": "dkk", "items": items(price("price_mock_standard", 2999, "dkk"))},
        api_version=API_VERSION,
    )


# -- sync -------------------------------------------------------------------------


def test_the_first_sync_of_a_customer_backfills_then_a_second_appends_nothing(engine: Engine) -> None:
    tenant = cust_only(engine)
    stripe = FakeStripe()
    progress: list[str] = []
    first = sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=stripe, progress=progress.append)
    assert (first.billing_events_appended, first.has_drift_detected, first.drift_discrepancy_count) == (3, False, 0)
    assert first.synced_at == NOW and first.archived_events_awaiting_confirmation is None
    assert "Replaying events into the ledger" in progress and progress[-1] == "Done"
    with engine.connect() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()
    assert (row.plan, row.current_price_amount, row.current_price_currency) == ("Standard", 149, "DKK")
    second = sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW + timedelta(minutes=1), client=stripe)
    assert second.billing_events_appended == 0
    assert first.to_json()["tenant_id"] == str(tenant.id)


def test_sync_reports_drift_it_could_not_heal(engine: Engine) -> None:
    tenant = cust_only(engine)
    stripe = FakeStripe(scheduled_plan=SubscriptionPlan.Premium, catalog_plans=(SubscriptionPlan.Standard,))
    result = sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=stripe)
    assert (result.has_drift_detected, result.drift_discrepancy_count) == (True, 1)  # ScheduledPriceMissing


def test_refusals_come_in_the_contract_order(engine: Engine, reader: Engine) -> None:
    tenant = cust_only(engine)
    with pytest.raises(Forbidden):
        sync.sync_tenant(reader, UNCONFIGURED, 999, now=NOW, client=FakeStripe())  # rights first
    with pytest.raises(StripeNotConfigured):
        sync.sync_tenant(engine, UNCONFIGURED, 999, now=NOW, client=FakeStripe())  # then configuration
    with pytest.raises(NotFound, match="tenant 999 not found"):
        sync.sync_tenant(engine, CONFIGURED, 999, now=NOW, client=FakeStripe())
    with engine.begin() as conn:
        no_customer = factories.tenant(conn, plan="Basis")
    with pytest.raises(OperatorError, match="has no Stripe customer"):
        sync.sync_tenant(engine, CONFIGURED, no_customer.id, now=NOW, client=FakeStripe())
    with pytest.raises(Forbidden):
        sync.sync_all(reader, CONFIGURED, now=NOW, client=FakeStripe())
    assert billing_rows(engine, tenant) == []


def test_a_currency_mismatch_fails_the_sync_and_changes_nothing(engine: Engine) -> None:
    tenant = cust_only(engine)
    stripe = FakeStripe(currency="USD")
    stripe.price_catalog = lambda: FakeStripe().price_catalog()  # type: ignore[method-assign]
    with pytest.raises(CurrencyMismatch, match="USD"):
        sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=stripe)
    with engine.connect() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()
        stored = conn.execute(select(func.count()).select_from(StripeEvent)).scalar_one()
    assert (row.plan, row.drift_checked_at, stored) == ("Basis", None, 0)


def test_two_syncs_of_one_tenant_at_once_serialise_and_duplicate_nothing(engine: Engine) -> None:
    tenant = cust_only(engine)
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe()))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.billing_events_appended for r in results) == [0, 3]
    assert len(billing_rows(engine, tenant)) == 3


def test_archived_events_awaiting_confirmation(engine: Engine) -> None:
    """The first sync projects the stored archive (docs/rules.md R59), so
    what still awaits confirmation is what can never make a billing row."""
    tenant = cust_only(engine)
    archived(engine, archived_created("evt_archive_created", NOW - timedelta(days=45)), NOW - timedelta(days=45))
    checkout = event(
        "checkout.session.completed",
        id="evt_archive_checkout",
        created=NOW - timedelta(days=40),
        obj={"customer": CUSTOMER},
        api_version=API_VERSION,
    )
    archived(engine, checkout, NOW - timedelta(days=40))
    result = sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())
    assert result.billing_events_appended == 4  # the archived creation and E1-E3
    awaiting = result.archived_events_awaiting_confirmation
    assert awaiting == sync.ArchivedAwaiting(1, NOW - timedelta(days=40), NOW - timedelta(days=40))


def test_sync_all_reports_each_tenant_and_continues_after_a_failure(engine: Engine) -> None:
    first = cust_only(engine)
    second = cust_only(engine, customer="cus_unreachable")
    cust_only(engine, customer=None)  # no customer: not synced
    seen: list[tuple[int, int, int, str]] = []
    result = sync.sync_all(
        engine,
        CONFIGURED,
        now=NOW,
        client=FakeStripe(unreachable_customers=frozenset({"cus_unreachable"})),
        progress=lambda *step: seen.append(step),
    )
    assert [item.tenant_id for item in result.items] == [first.id]
    assert [(f.tenant_id, "cannot reach Stripe" in f.error) for f in result.failures] == [(second.id, True)]
    # One call as each tenant finishes, in whatever order the workers finish.
    assert sorted(done for done, _, _, _ in seen) == [1, 2] and {total for _, total, _, _ in seen} == {2}
    assert sorted((tenant, outcome) for _, _, tenant, outcome in seen) == [
        (first.id, "synced"),
        (second.id, "failed (Stripe unavailable)"),
    ]
    assert (result.to_json()["failed"], result.to_json()["not_tried"], result.stopped) == (1, 0, None)


def test_a_sync_of_a_customer_missing_in_stripe_reports_drift_and_keeps_the_tenant(engine: Engine) -> None:
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Standard", stripe_customer_id=CUSTOMER)
    result = sync.sync_tenant(
        engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe(missing_customers=frozenset({CUSTOMER}))
    )
    assert (
        result.has_drift_detected,
        result.drift_discrepancy_count,
        result.billing_events_appended,
        result.changes,
    ) == (True, 1, 0, ())
    with engine.connect() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()
    assert (row.plan, row.stripe_subscription_id, row.drift_discrepancies[0]["Kind"]) == (
        "Standard",
        f"sub_stripe_{tenant.id}",
        "CustomerMissingInStripe",
    )


# -- archive replay --------------------------------------------------------------------


def test_an_archived_creation_is_replayed_once(engine: Engine) -> None:
    tenant = cust_only(engine)
    archived(engine, archived_created("evt_archive_one", NOW - timedelta(days=45)), NOW - timedelta(days=45))
    result = archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())
    assert (result.billing_events_appended, result.replayed_at) == (1, NOW)
    [created] = billing_rows(engine, tenant)
    assert (created.event_type, created.currency, created.occurred_at) == (
        "SubscriptionCreated",
        "DKK",
        NOW - timedelta(days=45),
    )
    assert (created.previous_amount, created.new_amount, created.committed_mrr) == (
        0,
        Decimal("29.99"),
        Decimal("29.99"),
    )
    with engine.connect() as conn:
        since = conn.execute(
            select(Subscription.subscribed_since).where(Subscription.id == tenant.subscription_id)
        ).scalar_one()
    assert since == NOW - timedelta(days=45)
    with pytest.raises(OperatorError, match="No archived events"):
        archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())


def test_archive_replay_is_seeded_from_the_persisted_history(engine: Engine) -> None:
    tenant = cust_only(engine, current_price_currency="DKK")
    with engine.begin() as conn:
        factories.billing_event(
            conn,
            tenant,
            "SubscriptionCreated",
            occurred_at=NOW - timedelta(days=90),
            previous_amount="0",
            new_amount="299",
            to_plan="Standard",
        )
    cancel = event(
        "customer.subscription.updated",
        id="evt_archive_cancel",
        created=NOW - timedelta(days=45),
        obj={"cancel_at_period_end": True, "currency": "dkk", "items": items(price("price_mock_standard", 29900))},
        previous={"cancel_at_period_end": False},
        api_version=API_VERSION,
    )
    archived(engine, cancel, NOW - timedelta(days=45))
    assert (
        archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe()).billing_events_appended == 1
    )
    cancelled = [row for row in billing_rows(engine, tenant) if row.event_type == "SubscriptionCancelled"]
    assert [(r.previous_amount, r.amount_delta, r.committed_mrr) for r in cancelled] == [(299, -299, 0)]


def test_events_stripe_still_lists_are_not_replayed_from_the_archive(engine: Engine) -> None:
    tenant = cust_only(engine)
    archived(
        engine, archived_created("evt_mock_subscription_created", NOW - timedelta(days=1)), NOW - timedelta(days=1)
    )
    archived(engine, archived_created("evt_archive_old", NOW - timedelta(days=90)), NOW - timedelta(days=90))
    with engine.begin() as conn:  # neither a Pending row nor one without a Stripe time is a candidate
        factories.stripe_event(
            conn, archived_created("evt_archive_pending", NOW - timedelta(days=80)), customer_id=CUSTOMER
        )
        conn.execute(
            StripeEvent.__table__.update().where(StripeEvent.id == "evt_archive_old").values(api_version="2015-01-01")
        )
    assert (
        archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe()).billing_events_appended == 1
    )
    assert [row.stripe_event_id for row in billing_rows(engine, tenant)] == [
        "evt_archive_old"
    ]  # no version filter here


def test_an_archived_event_in_another_currency_fails_the_replay(engine: Engine) -> None:
    tenant = cust_only(engine, current_price_currency="DKK")
    refund = event(
        "charge.refunded",
        id="evt_archive_refund_eur",
        created=NOW - timedelta(days=45),
        obj={"customer": CUSTOMER, "currency": "eur"},
        api_version=API_VERSION,
    )
    archived(engine, refund, NOW - timedelta(days=45))
    with pytest.raises(CurrencyMismatch, match="evt_archive_refund_eur .* is in EUR, the platform currency is DKK"):
        archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())
    assert billing_rows(engine, tenant) == []


def test_archive_replay_refusals(engine: Engine, reader: Engine) -> None:
    tenant = cust_only(engine)
    with pytest.raises(Forbidden):
        archive.replay_archive(reader, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())
    with pytest.raises(StripeNotConfigured):
        archive.replay_archive(engine, UNCONFIGURED, tenant.id, now=NOW, client=FakeStripe())
    with pytest.raises(OperatorError, match="No archived events"):
        archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=FakeStripe())


# -- the CLI ---------------------------------------------------------------------------


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize(
    "command",
    [["sync", "{id}"], ["sync", "--all"], ["drift", "ack", "{id}"], ["stripe", "replay-archive", "{id}"]],
)
def test_a_reader_gets_exit_3_before_configuration_is_checked(
    command: list[str],
    engine: Engine,
    reader: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = cust_only(engine)
    args = [part.format(id=tenant.id) for part in command]
    code, out, err = run_cli_captured(["--database-url", url_of(reader), *args], monkeypatch, capsys)
    assert code == 3, err
    assert "backoffice_admin" in err and out == ""


@pytest.mark.parametrize("command", [["sync", "{id}"], ["sync", "--all"], ["stripe", "replay-archive", "{id}"]])
def test_without_a_stripe_key_admin_actions_exit_4(
    command: list[str], engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = cust_only(engine)
    args = [part.format(id=tenant.id) for part in command]
    code, out, err = run_cli_captured(["--database-url", url_of(engine), *args, "--json"], monkeypatch, capsys)
    assert code == 4
    assert err.strip() == "error: Stripe is not configured: set STRIPE_API_KEY to sync with Stripe" and out == ""


def test_cli_not_found_usage_and_acknowledge(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = ["--database-url", url_of(engine)]
    code, _, err = run_cli_captured(
        [*database, "sync", "4242", "--json"], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x"
    )
    assert (code, err.strip()) == (1, "error: tenant 4242 not found")
    code, _, _ = run_cli_captured([*database, "sync"], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x")
    assert code == 2
    tenant = cust_only(engine)
    code, _, err = run_cli_captured([*database, "drift", "ack", str(tenant.id)], monkeypatch, capsys)
    assert (code, err.strip()) == (1, "error: Subscription has no drift to acknowledge.")
    with engine.begin() as conn:
        conn.execute(
            Subscription.__table__.update()
            .where(Subscription.id == tenant.subscription_id)
            .values(has_drift_detected=True, drift_discrepancies=[{"Kind": "MissingEvent", "Severity": "Warning"}])
        )
    code, out, err = run_cli_captured(
        [*database, "--operator", "alice", "drift", "ack", str(tenant.id), "--json"], monkeypatch, capsys
    )
    assert code == 0, err
    result = json.loads(out)
    assert (result["tenant_id"], result["acknowledged_by"], result["drift_discrepancy_count"]) == (
        str(tenant.id),
        "alice",
        1,
    )
    with engine.connect() as conn:
        row = conn.execute(
            select(Subscription.has_drift_detected, Subscription.drift_discrepancies).where(
                Subscription.id == tenant.subscription_id
            )
        ).one()
    assert (row.has_drift_detected, len(row.drift_discrepancies)) == (False, 1)
