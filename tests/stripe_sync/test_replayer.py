"""The replayer, rule by rule (docs/rules.md R15-R28): what each Stripe event
becomes, the running state and its seed, ordering, ids (R7) and API versions."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from core.ids import billing_event_id
from db.enums import BillingEventType as T
from db.enums import CancellationReason, SubscriptionPlan, SuspensionReason
from stripe_sync.replayer import (
    BillingEventRow,
    InvalidBillingEvent,
    ReplayState,
    check_invariants,
    replay,
)
from tests.stripe_sync.stripe_events import at, catalog, event, items, price, recorded

SUB = "sub_01KQ0000000000000000000000"
FEB = at("2026-02-15T10:00:00")
JAN = at("2026-01-15T10:00:00")
CATALOG = catalog()


def run(events, *, state=None, **kwargs):
    kwargs.setdefault("catalog", CATALOG)
    return replay(events, tenant_id=7, subscription_id=SUB, state=state, **kwargs)


def a_usd(events, **kwargs):
    """The A-USD subscription the scenarios share: Standard at 29 USD, replayed from an empty state."""
    kwargs.setdefault("live_plan", SubscriptionPlan.Standard)
    kwargs.setdefault("live_currency", "USD")
    return run(events, **kwargs)


def amounts(row: BillingEventRow):
    return (row.previous_amount, row.new_amount, row.amount_delta, row.committed_mrr)


def d(value: str | int) -> Decimal:
    return Decimal(value)


# -- scenarios: payments, updates, currencies, deletions, prices, the seed -----


def test_a_first_failed_payment_attempt_counts() -> None:
    failed = event(
        "invoice.payment_failed",
        id="evt_failed",
        created=FEB,
        obj={"attempt_count": 1, "billing_reason": "subscription_cycle"},
    )
    [row] = a_usd([failed]).rows
    assert (row.event_type, row.stripe_event_id) == (T.PaymentFailed, "evt_failed")


def test_an_update_of_only_the_latest_invoice_is_a_noop() -> None:
    update = event(
        "customer.subscription.updated",
        id="evt_latest_invoice",
        created=FEB,
        obj={"items": items("price_standard"), "status": "active"},
        previous={"latest_invoice": "in_old"},
    )
    [row] = a_usd([update]).rows
    assert (row.event_type, row.stripe_event_id) == (T.NoOp, "evt_latest_invoice")


def test_a_first_cycle_payment_is_a_renewal() -> None:
    paid = event(
        "invoice.payment_succeeded",
        id="evt_paid",
        created=FEB,
        obj={"attempt_count": 1, "billing_reason": "subscription_cycle"},
    )
    [row] = a_usd([paid]).rows
    assert row.event_type == T.SubscriptionRenewed


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_active_to_past_due_or_unpaid_is_past_due(status: str) -> None:
    update = event(
        "customer.subscription.updated",
        id=f"evt_{status}",
        created=FEB,
        obj={"status": status},
        previous={"status": "active"},
    )
    [row] = a_usd([update]).rows
    assert (row.event_type, row.stripe_event_id) == (T.SubscriptionPastDue, f"evt_{status}")


def test_the_payload_currency_wins_on_a_reset_subscription() -> None:
    deleted = event(
        "customer.subscription.deleted",
        id="evt_deleted",
        created=JAN,
        obj={"currency": "dkk", "status": "canceled", "cancel_at_period_end": False},
    )
    [row] = run([deleted]).rows
    assert (row.event_type, row.currency) == (T.SubscriptionImmediatelyCancelled, "DKK")


def test_the_item_price_currency_is_used_without_a_top_level_one() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_created",
        created=JAN,
        obj={"items": items(price("price_standard", currency="dkk"))},
    )
    [row] = run([created]).rows
    assert (row.event_type, row.currency) == (T.SubscriptionCreated, "DKK")


def test_the_override_gives_a_currency_to_a_payment_method_event() -> None:
    attached = event("payment_method.attached", id="evt_pm", created=JAN, obj={"id": "pm_1", "type": "card"})
    [row] = run([attached], currency_override="DKK").rows
    assert (row.event_type, row.currency) == (T.PaymentMethodUpdated, "DKK")


def test_a_deletion_after_a_scheduled_cancellation_is_an_expiry() -> None:
    cancel = event(
        "customer.subscription.updated",
        id="evt_cancel",
        created=FEB,
        obj={"cancel_at_period_end": True, "items": items(price("price_standard", currency="usd"))},
        previous={"cancel_at_period_end": False},
    )
    deleted = event(
        "customer.subscription.deleted",
        id="evt_deleted",
        created=at("2026-03-15T10:00:00"),
        obj={"cancel_at_period_end": False, "cancellation_details": {"reason": "cancellation_requested"}},
    )
    rows = a_usd([deleted, cancel]).rows
    assert [(r.event_type, r.stripe_event_id) for r in rows] == [
        (T.SubscriptionCancelled, "evt_cancel"),
        (T.SubscriptionExpired, "evt_deleted"),
    ]
    assert all(amounts(r) == (0, 0, 0, 0) for r in rows)


def test_a_deletion_for_failed_payment_is_a_suspension() -> None:
    deleted = event(
        "customer.subscription.deleted",
        id="evt_del",
        created=FEB,
        obj={"cancellation_details": {"reason": "payment_failed"}},
    )
    [row] = a_usd([deleted]).rows
    assert (row.event_type, row.suspension_reason) == (T.SubscriptionSuspended, SuspensionReason.PaymentFailed)


def test_a_deletion_without_a_scheduled_cancellation_is_immediate() -> None:
    deleted = event(
        "customer.subscription.deleted",
        id="evt_del",
        created=FEB,
        obj={"cancellation_details": {"reason": "cancellation_requested"}},
    )
    [row] = a_usd([deleted]).rows
    assert (row.event_type, row.suspension_reason) == (T.SubscriptionImmediatelyCancelled, None)


def test_the_payload_price_beats_the_catalog_on_an_upgrade() -> None:
    upgrade = event(
        "customer.subscription.updated",
        id="evt_upgrade",
        created=FEB,
        obj={"items": items(price("price_premium", 14900, "usd"))},
        previous={"items": items("price_standard")},
    )
    [row] = a_usd([upgrade], catalog=catalog(premium="159.00")).rows
    assert row.event_type == T.SubscriptionUpgraded
    assert (row.from_plan, row.to_plan) == (SubscriptionPlan.Standard, SubscriptionPlan.Premium)
    assert amounts(row) == (0, d("149.00"), d("149.00"), d("149.00"))


def test_the_catalog_price_is_the_fallback_without_a_unit_amount() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_created",
        created=JAN,
        obj={"items": items(price("price_standard", currency="usd"))},
    )
    [row] = run([created], catalog=catalog(standard="29.99")).rows
    assert row.new_amount == d("29.99")


def test_a_revenue_event_without_any_currency_is_skipped() -> None:
    paid = event("invoice.payment_succeeded", id="evt_paid", created=JAN, obj={"amount_paid": 2999, "status": "paid"})
    result = run([paid])
    assert result.rows == []
    assert result.skipped_without_currency == ["evt_paid"]


def test_a_payment_method_event_may_have_no_currency() -> None:
    attached = event("payment_method.attached", id="evt_pm", created=JAN, obj={"id": "pm_1"})
    [row] = run([attached]).rows
    assert (row.event_type, row.currency) == (T.PaymentMethodUpdated, None)


def test_the_seed_takes_the_scheduled_plan_from_the_latest_persisted_row() -> None:
    state = ReplayState.seeded(
        live_plan="Premium",
        live_price=d("299.00"),
        live_cancel_at_period_end=False,
        live_scheduled_plan=None,
        latest_event_type="SubscriptionDowngradeScheduled",
        latest_to_plan="Standard",
        latest_committed_mrr=d("299.00"),
    )
    released = event(
        "subscription_schedule.released",
        id="evt_released",
        created=at("2026-02-02T10:00:00"),
        obj={"status": "released"},
    )
    [row] = run([released], state=state, currency_override="USD").rows
    assert row.event_type == T.SubscriptionDowngradeCancelled
    assert amounts(row) == (d("299.00"), d("299.00"), None, d("299.00"))
    assert row.to_plan == SubscriptionPlan.Premium


# -- every event type and its edge rules (docs/rules.md R18-R27) ---------------


def test_customer_lifecycle_rows() -> None:
    created = event("customer.created", id="evt_c1", created=JAN, obj={"id": "cus_1"})
    named = event(
        "customer.updated",
        id="evt_c2",
        created=JAN + timedelta(minutes=1),
        obj={"id": "cus_1"},
        previous={"name": "Old"},
    )
    taxed = event(
        "customer.updated",
        id="evt_c3",
        created=JAN + timedelta(minutes=2),
        obj={"id": "cus_1"},
        previous={"tax_ids": {}},
    )
    other = event(
        "customer.updated",
        id="evt_c4",
        created=JAN + timedelta(minutes=3),
        obj={"id": "cus_1"},
        previous={"balance": 0},
    )
    no_previous = event("customer.updated", id="evt_c5", created=JAN + timedelta(minutes=4), obj={"id": "cus_1"})
    rows = run([created, named, taxed, other, no_previous]).rows
    assert [r.event_type for r in rows] == [
        T.BillingInfoAdded,
        T.BillingInfoUpdated,
        T.BillingInfoUpdated,
        T.NoOp,
        T.NoOp,
    ]
    assert all(amounts(r) == (None, None, None, 0) for r in rows)
    assert rows[0].stripe_reference == "cus_1"


def test_a_refund_reports_the_committed_mrr_not_the_refunded_money() -> None:
    history = [
        recorded("customer.subscription.created"),
        recorded("charge.refunded"),
    ]
    rows = run(history).rows
    assert rows[1].event_type == T.PaymentRefunded
    assert amounts(rows[1]) == (None, d("149.00"), None, d("149.00"))
    assert rows[1].stripe_reference == "ch_3SZ3bwHc8gq2XkR00q5Y8hTz"


@pytest.mark.parametrize(
    ("event_type", "invoice", "expected"),
    [
        ("invoice.payment_succeeded", {"billing_reason": "subscription_cycle", "attempt_count": 3}, T.PaymentRecovered),
        ("invoice.payment_succeeded", {"billing_reason": "subscription_update", "attempt_count": 1}, T.NoOp),
        ("invoice.payment_succeeded", {"billing_reason": "subscription_create"}, T.NoOp),
        ("invoice.payment_succeeded", {"billing_reason": "subscription_cycle"}, T.SubscriptionRenewed),
        ("invoice.payment_failed", {"billing_reason": "subscription_create", "attempt_count": 1}, T.NoOp),
        ("invoice.payment_failed", {"billing_reason": "subscription_cycle", "attempt_count": 4}, T.PaymentFailed),
    ],
)
def test_invoice_rules(event_type: str, invoice: dict, expected: T) -> None:
    [row] = a_usd([event(event_type, id="evt_inv", created=FEB, obj=invoice)]).rows
    assert row.event_type == expected


def test_reactivation_restores_the_plan_price() -> None:
    history = [
        recorded("customer.subscription.created", created=JAN),
        recorded("customer.subscription.updated.cancel", created=FEB),
        event(
            "customer.subscription.updated",
            id="evt_reactivate",
            created=FEB + timedelta(days=3),
            obj={"cancel_at_period_end": False, "currency": "dkk"},
            previous={"cancel_at_period_end": True},
        ),
    ]
    created, cancelled, reactivated = run(history).rows
    assert amounts(created) == (0, d("149.00"), d("149.00"), d("149.00"))
    assert cancelled.event_type == T.SubscriptionCancelled
    assert amounts(cancelled) == (d("149.00"), 0, d("-149.00"), 0)
    assert reactivated.event_type == T.SubscriptionReactivated
    assert amounts(reactivated) == (0, d("149.00"), d("149.00"), d("149.00"))
    assert reactivated.days_since_cancelled == 3


def test_a_downgrade_by_update_and_an_upgrade_while_cancelling() -> None:
    premium = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "usd", "items": items("price_premium")},
    )
    downgrade = event(
        "customer.subscription.updated",
        id="evt_2",
        created=JAN + timedelta(days=10),
        obj={"currency": "usd", "items": items("price_standard")},
        previous={"items": items("price_premium")},
    )
    cancel = event(
        "customer.subscription.updated",
        id="evt_3",
        created=JAN + timedelta(days=11),
        obj={"currency": "usd"},
        previous={"cancel_at_period_end": False},
    )
    upgrade = event(
        "customer.subscription.updated",
        id="evt_4",
        created=JAN + timedelta(days=12),
        obj={"currency": "usd", "items": items("price_premium")},
        previous={"items": items("price_standard")},
    )
    rows = run([premium, downgrade, cancel, upgrade]).rows
    assert [r.event_type for r in rows] == [
        T.SubscriptionCreated,
        T.SubscriptionDowngraded,
        T.SubscriptionCancelled,
        T.SubscriptionUpgraded,
    ]
    assert amounts(rows[1]) == (d("99.00"), d("29.00"), d("-70.00"), d("29.00"))
    assert rows[1].days_on_previous_plan == 10
    assert amounts(rows[3]) == (0, 0, 0, 0)  # still cancelling: stays at 0


def test_a_two_phase_schedule_is_a_downgrade_at_the_catalog_price() -> None:
    history = [
        event(
            "customer.subscription.created",
            id="evt_1",
            created=at("2026-01-15T10:00:00"),
            obj={"currency": "dkk", "items": items("price_premium")},
        ),
        recorded("subscription_schedule.updated"),
    ]
    created, scheduled = run(history).rows
    assert scheduled.event_type == T.SubscriptionDowngradeScheduled
    assert (scheduled.from_plan, scheduled.to_plan) == (SubscriptionPlan.Premium, SubscriptionPlan.Standard)
    assert amounts(scheduled) == (d("99.00"), d("29.00"), d("-70.00"), d("29.00"))
    assert scheduled.scheduled_for == at("2026-02-15T09:59:58")
    assert scheduled.days_until_effective == 13
    assert scheduled.currency == "DKK"


@pytest.mark.parametrize(
    "schedule",
    [
        {"status": "active", "phases": [{"items": [{"price": "price_standard"}]}]},  # one phase
        {
            "status": "active",
            "phases": [{"items": [{"price": "price_premium"}]}, {"items": [{"price": "price_premium"}]}],
        },  # current plan
        {
            "status": "canceled",
            "phases": [{"items": [{"price": "price_premium"}]}, {"items": [{"price": "price_standard"}]}],
        },
        {
            "status": "released",
            "phases": [{"items": [{"price": "price_premium"}]}, {"items": [{"price": "price_standard"}]}],
        },
        {
            "status": "completed",
            "phases": [{"items": [{"price": "price_premium"}]}, {"items": [{"price": "price_standard"}]}],
        },
    ],
)
def test_schedule_updates_that_schedule_nothing_are_noops(schedule: dict) -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "usd", "items": items("price_premium")},
    )
    updated = event("subscription_schedule.updated", id="evt_2", created=FEB, obj={"currency": "usd", **schedule})
    rows = run([created, updated]).rows
    assert rows[1].event_type == T.NoOp
    assert rows[1].committed_mrr == d("99.00")


def test_the_same_scheduled_target_twice_is_scheduled_once() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "dkk", "items": items("price_premium")},
    )
    first = recorded("subscription_schedule.updated", id="evt_2")
    again = recorded("subscription_schedule.updated", id="evt_3", created=1770000500)
    rows = run([created, first, again]).rows
    assert [r.event_type for r in rows] == [T.SubscriptionCreated, T.SubscriptionDowngradeScheduled, T.NoOp]


def test_releasing_a_schedule_cancels_the_downgrade_only_when_one_is_tracked() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "dkk", "items": items("price_premium")},
    )
    released_early = recorded("subscription_schedule.released", id="evt_0", created=JAN - timedelta(days=1))
    rows = run(
        [released_early, created, recorded("subscription_schedule.updated"), recorded("subscription_schedule.released")]
    ).rows
    assert [r.event_type for r in rows] == [
        T.NoOp,
        T.SubscriptionCreated,
        T.SubscriptionDowngradeScheduled,
        T.SubscriptionDowngradeCancelled,
    ]
    assert amounts(rows[3]) == (d("29.00"), d("99.00"), d("70.00"), d("99.00"))


@pytest.mark.parametrize(
    "event_type",
    [
        "subscription_schedule.created",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
    ],
)
def test_paired_events_are_noops(event_type: str) -> None:
    [row] = a_usd([event(event_type, id="evt_x", created=FEB, obj={"status": "active"})]).rows
    assert row.event_type == T.NoOp


def test_a_cancel_toggle_with_a_plan_change_is_unclassified_and_changes_nothing() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "usd", "items": items("price_standard")},
    )
    both = event(
        "customer.subscription.updated",
        id="evt_2",
        created=FEB,
        obj={"currency": "usd", "items": items("price_premium"), "cancel_at_period_end": True},
        previous={"cancel_at_period_end": False, "items": items("price_standard")},
    )
    result = run([created, both])
    assert result.rows[1].event_type == T.Unclassified
    assert amounts(result.rows[1]) == (None, None, None, d("29.00"))
    assert result.has_unclassified_event
    assert (result.state.plan, result.state.cancel_at_period_end) == (SubscriptionPlan.Standard, False)


def test_unknown_types_make_no_row() -> None:
    result = a_usd([event("checkout.session.completed", id="evt_checkout", created=FEB, obj={"currency": "usd"})])
    assert result.rows == []
    assert result.ignored_types == ["evt_checkout"]


def test_empty_and_malformed_payloads_read_as_no_data() -> None:
    empty = {"id": "evt_1", "type": "customer.subscription.updated", "created": 1, "api_version": None, "data": None}
    text = {"id": "evt_2", "type": "invoice.payment_succeeded", "created": 2, "data": "customer:cus_1"}
    rows = a_usd([empty, text]).rows
    assert [(r.event_type, r.currency) for r in rows] == [(T.NoOp, "USD"), (T.NoOp, "USD")]


def test_customer_deleted_suspends_from_the_tracked_plan() -> None:
    rows = run([recorded("customer.subscription.created"), recorded("customer.deleted")]).rows
    suspended = rows[1]
    assert (suspended.event_type, suspended.suspension_reason) == (
        T.SubscriptionSuspended,
        SuspensionReason.CustomerDeleted,
    )
    assert (suspended.from_plan, suspended.to_plan) == (SubscriptionPlan.Standard, SubscriptionPlan.Basis)
    assert amounts(suspended) == (d("149.00"), 0, d("-149.00"), 0)


def test_the_cancellation_reason_comes_from_the_payload_then_the_subscription() -> None:
    from_payload = run(
        [recorded("customer.subscription.updated.cancel")], live_cancellation_reason="TooExpensive"
    ).rows[0]
    assert from_payload.cancellation_reason == CancellationReason.FoundAlternative
    bare = event(
        "customer.subscription.updated",
        id="evt_c",
        created=FEB,
        obj={"currency": "usd"},
        previous={"cancel_at_period_end": False},
    )
    from_live = run([bare], live_cancellation_reason="NoLongerNeeded").rows[0]
    assert from_live.cancellation_reason == CancellationReason.NoLongerNeeded


@pytest.mark.parametrize("feedback", [None, ""], ids=["none", "empty"])
def test_a_cancellation_without_feedback_was_an_operators(feedback: str | None) -> None:
    # The ledger row and the subscription row (stripe_mapping.cancellation_reason_of)
    # must agree: no feedback, None or empty, is CancelledByAdmin, never Other.
    details = {"comment": None, "feedback": feedback, "reason": "cancellation_requested"}
    cancelling = recorded("customer.subscription.updated.cancel", cancellation_details=details)
    row = run([cancelling], live_cancellation_reason="TooExpensive").rows[0]
    assert row.cancellation_reason == CancellationReason.CancelledByAdmin


def test_no_unit_amount_and_no_catalog_price_is_zero() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "usd", "items": items("price_premium")},
    )
    [row] = run([created], catalog=catalog(premium=None)).rows
    assert row.to_plan is None
    assert amounts(row) == (0, 0, 0, 0)


def test_an_unmapped_price_falls_back_to_the_live_plan() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_1",
        created=JAN,
        obj={"currency": "usd", "items": items(price("price_legacy", 1900))},
    )
    [row] = run([created], live_plan=SubscriptionPlan.Standard).rows
    assert (row.to_plan, row.new_amount) == (SubscriptionPlan.Standard, d("19.00"))


def test_legacy_plan_objects_are_read_like_prices() -> None:
    created = event(
        "customer.subscription.created",
        id="evt_legacy",
        created=JAN,
        api_version="2017-08-15",
        obj={
            "items": {"data": [{"plan": {"id": "price_premium", "amount": 29900, "currency": "eur"}}]},
            "plan": {"id": "price_premium"},
        },
    )
    [row] = run([created]).rows
    assert (row.to_plan, row.new_amount, row.currency) == (SubscriptionPlan.Premium, d("299.00"), "EUR")


# -- ordering, duplicates, identity, versions ----------------------------------


def lifecycle() -> list[dict]:
    """create -> upgrade -> schedule downgrade -> cancel the downgrade -> cancel -> reactivate -> cancel -> expire."""
    start = at("2026-01-01T00:00:00")

    def update(n: int, obj: dict, previous: dict) -> dict:
        return event(
            "customer.subscription.updated",
            id=f"evt_{n:02d}",
            created=start + timedelta(days=n),
            obj={"currency": "usd", **obj},
            previous=previous,
        )

    return [
        event(
            "customer.subscription.created",
            id="evt_00",
            created=start,
            obj={"currency": "usd", "items": items("price_standard")},
        ),
        update(1, {"items": items("price_premium")}, {"items": items("price_standard")}),
        event(
            "subscription_schedule.updated",
            id="evt_02",
            created=start + timedelta(days=2),
            obj={
                "status": "active",
                "phases": [{"items": [{"price": "price_premium"}]}, {"items": [{"price": "price_standard"}]}],
            },
        ),
        event(
            "subscription_schedule.released",
            id="evt_03",
            created=start + timedelta(days=3),
            obj={"currency": "usd", "status": "released"},
        ),
        update(4, {"cancel_at_period_end": True}, {"cancel_at_period_end": False}),
        update(5, {"cancel_at_period_end": False}, {"cancel_at_period_end": True}),
        update(6, {"cancel_at_period_end": True}, {"cancel_at_period_end": False}),
        event(
            "customer.subscription.deleted",
            id="evt_07",
            created=start + timedelta(days=30),
            obj={"currency": "usd", "status": "canceled"},
        ),
    ]


def test_a_full_lifecycle_step_by_step() -> None:
    rows = run(lifecycle(), live_currency="USD").rows
    assert [(r.event_type, r.committed_mrr) for r in rows] == [
        (T.SubscriptionCreated, d("29.00")),
        (T.SubscriptionUpgraded, d("99.00")),
        (T.SubscriptionDowngradeScheduled, d("29.00")),
        (T.SubscriptionDowngradeCancelled, d("99.00")),
        (T.SubscriptionCancelled, d("0.00")),
        (T.SubscriptionReactivated, d("99.00")),
        (T.SubscriptionCancelled, d("0.00")),
        (T.SubscriptionExpired, d("0.00")),
    ]
    # Each MRR-moving row starts where the previous one ended; the deltas add up.
    previous = Decimal(0)
    for row in rows:
        assert row.previous_amount == previous
        assert row.new_amount == row.committed_mrr
        previous = row.committed_mrr
    assert sum(r.amount_delta for r in rows) == rows[-1].committed_mrr
    assert rows[-1].days_since_cancelled == 24


def test_shuffled_input_gives_identical_rows() -> None:
    expected = run(lifecycle(), live_currency="USD").rows
    for seed in range(5):
        shuffled = lifecycle()
        random.Random(seed).shuffle(shuffled)
        assert run(shuffled, live_currency="USD").rows == expected


def test_same_second_events_are_ordered_by_ordinal_id() -> None:
    # Ordinal: "evt_B" < "evt_a"; a culture-aware comparison would put evt_a first.
    cancel = event(
        "customer.subscription.updated",
        id="evt_B",
        created=FEB,
        obj={"currency": "usd"},
        previous={"cancel_at_period_end": False},
    )
    deleted = event("customer.subscription.deleted", id="evt_a", created=FEB, obj={"currency": "usd"})
    rows = a_usd([deleted, cancel]).rows
    assert [(r.stripe_event_id, r.event_type) for r in rows] == [
        ("evt_B", T.SubscriptionCancelled),
        ("evt_a", T.SubscriptionExpired),
    ]


def test_an_id_given_twice_is_replayed_once_and_the_first_copy_wins() -> None:
    listed = event(
        "invoice.payment_succeeded",
        id="evt_dup",
        created=FEB,
        obj={"currency": "usd", "billing_reason": "subscription_cycle"},
    )
    webhook = event(
        "invoice.payment_succeeded",
        id="evt_dup",
        created=FEB,
        obj={"currency": "usd", "billing_reason": "subscription_create"},
    )
    rows = a_usd([listed, webhook, listed]).rows
    assert [(r.stripe_event_id, r.event_type) for r in rows] == [("evt_dup", T.SubscriptionRenewed)]


def test_recorded_events_advance_the_state_but_are_not_returned() -> None:
    history = lifecycle()
    result = run(history, skip_stripe_event_ids={"evt_00", "evt_01"}, live_currency="USD")
    assert [r.stripe_event_id for r in result.already_recorded] == ["evt_00", "evt_01"]
    assert result.rows[0].previous_amount == d("99.00")  # computed after the skipped upgrade


def test_ids_are_deterministic_and_path_independent() -> None:
    created = recorded("customer.subscription.created")
    [row] = run([created]).rows
    assert row.id == billing_event_id(SUB, "SubscriptionCreated", created["id"], row.occurred_at)
    assert row.id.startswith("bilev_") and len(row.id) == 32
    [again] = run([recorded("charge.refunded"), created]).rows[:1]
    assert again.id == row.id


def test_unsupported_api_versions_are_left_out_and_reported() -> None:
    old = event(
        "invoice.payment_succeeded", id="evt_old", created=FEB, obj={"currency": "usd"}, api_version="2020-08-27"
    )
    none = event("invoice.payment_succeeded", id="evt_none", created=FEB, obj={"currency": "usd"}, api_version="")
    ok = event("invoice.payment_succeeded", id="evt_ok", created=FEB, obj={"currency": "usd"})
    result = a_usd([old, none, ok], supported_api_versions={"2025-10-29.clover"})
    assert [r.stripe_event_id for r in result.rows] == ["evt_ok"]
    assert result.unsupported_api_versions == ["", "2020-08-27"]
    assert len(a_usd([old, none, ok]).rows) == 3  # no filter unless asked


def test_sub_second_created_times_keep_microseconds() -> None:
    [row] = a_usd([event("charge.refunded", id="evt_r", created=1771236000.123456, obj={"currency": "usd"})]).rows
    assert row.occurred_at.microsecond == 123456


def test_recorded_fixtures_fill_the_metadata_columns() -> None:
    rows = run(
        [
            recorded("customer.created"),
            recorded("payment_method.attached"),
            recorded("customer.subscription.created"),
            recorded("customer.updated"),
            recorded("customer.subscription.updated.upgrade"),
            recorded("invoice.payment_succeeded"),
            recorded("customer.subscription.updated.cancel"),
            recorded("invoice.payment_failed"),
            recorded("customer.subscription.updated.past_due"),
            recorded("customer.subscription.deleted"),
        ]
    ).rows
    by_type = {r.event_type: r for r in rows}
    assert list(by_type) == [
        T.BillingInfoAdded,
        T.PaymentMethodUpdated,
        T.SubscriptionCreated,
        T.SubscriptionUpgraded,
        T.BillingInfoUpdated,
        T.SubscriptionCancelled,
        T.SubscriptionRenewed,
        T.PaymentFailed,
        T.SubscriptionPastDue,
        T.SubscriptionExpired,
    ]
    assert by_type[T.SubscriptionCreated].effective_at == at("2026-01-15T09:59:58")
    assert by_type[T.SubscriptionUpgraded].days_on_previous_plan == 10
    assert by_type[T.SubscriptionCancelled].scheduled_for == at("2026-03-15T09:59:58")
    assert by_type[T.SubscriptionCancelled].days_until_effective == 27
    assert by_type[T.SubscriptionExpired].effective_at == at("2026-03-15T09:59:58")
    assert by_type[T.SubscriptionExpired].stripe_reference == "sub_1SWa1mHc8gq2XkR0Yc6TzQ2b"
    assert amounts(by_type[T.SubscriptionExpired]) == (0, 0, 0, 0)


# -- construction invariants ---------------------------------------------------


def _row(**changes) -> BillingEventRow:
    values = dict(
        tenant_id=1,
        id="bilev_x",
        subscription_id=SUB,
        stripe_event_id="evt_1",
        event_type=T.SubscriptionCreated,
        from_plan=None,
        to_plan=SubscriptionPlan.Standard,
        previous_amount=d("0"),
        new_amount=d("29.00"),
        amount_delta=d("29.00"),
        committed_mrr=d("29.00"),
        currency="USD",
        occurred_at=JAN,
    )
    values.update(changes)
    return BillingEventRow(**values)


def test_construction_invariants_reject_negative_mrr_and_a_wrong_delta() -> None:
    check_invariants(_row())
    check_invariants(_row(amount_delta=d("29.004")))
    with pytest.raises(InvalidBillingEvent, match="below 0"):
        check_invariants(_row(committed_mrr=d("-0.01")))
    with pytest.raises(InvalidBillingEvent, match="delta"):
        check_invariants(_row(amount_delta=d("28.99")))


def test_as_row_gives_the_stored_names() -> None:
    values = _row(cancellation_reason=CancellationReason.Other).as_row(JAN)
    assert values["event_type"] == "SubscriptionCreated"
    assert values["to_plan"] == "Standard"
    assert values["cancellation_reason"] == "Other"
    assert values["created_at"] == JAN
