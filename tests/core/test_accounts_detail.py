"""One account: its detail and lifetime value, payment history, user counts,
users and activity (docs/rules.md R49, R50, R87, R182), with one row per
transaction in the payment history (R49), and the side pane."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, insert

from core.account_detail import account_detail, account_summary, payment_history, stripe_customer_url, tenant_activity
from core.account_users import tenant_users, user_counts
from core.accounts import AccountStatus
from core.errors import NotFound
from core.paging import PageRequest
from core.users import UserStatus
from db.enums import PaymentTransactionStatus, SubscriptionPlan, UserRole
from db.models import Tenant
from tests import factories as f

NOW = f.NOW


def tenant1(conn: Connection) -> f.TenantRef:
    ref = f.tenant(conn, name="", created_at=NOW)
    f.user(conn, ref.id, email="owner@tenant-1.com", role="Owner", last_seen_at=None, created_at=NOW)
    f.user(conn, ref.id, email="member1@tenant-1.com", last_seen_at=None, created_at=NOW)
    return ref


def day(month: int, date: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, date, hour, minute, tzinfo=UTC)


def test_detail_of_a_paying_account(conn: Connection) -> None:
    ref = f.tenant(
        conn,
        name="Acme Corp",
        plan="Premium",
        current_price_amount=Decimal("199.00"),
        current_price_currency="DKK",
        subscribed_since=day(2, 1),
        billing_info={
            "Name": "Acme Corp Inc",
            "Email": None,
            "TaxId": "DK12345678",
            "Address": {
                "Line1": "123 Main St",
                "Line2": None,
                "PostalCode": "12345",
                "City": "Springfield",
                "State": "IL",
                "Country": "US",
            },
        },
        payment_method={"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2030},
        payment_transactions=[f.payment_transaction(amount_excluding_tax="199.00", tax="0", currency="USD")],
    )
    conn.execute(
        Tenant.__table__.update().where(Tenant.id == ref.id).values(logo={"Url": "https://cdn/acme.png", "Version": 1})
    )
    detail = account_detail(conn, ref.id, NOW)
    assert (detail.monthly_recurring_revenue, detail.currency, detail.lifetime_value) == (
        Decimal("199.00"),
        "DKK",
        Decimal("199.00"),
    )
    assert detail.billing_address is not None
    assert (detail.billing_address.country, detail.billing_address.city) == ("US", "Springfield")
    assert (detail.logo_url, detail.subscribed_since, detail.has_ever_subscribed) == (
        "https://cdn/acme.png",
        day(2, 1),
        True,
    )
    assert (detail.billing_name, detail.tax_id, detail.country) == ("Acme Corp Inc", "DK12345678", "US")
    assert detail.payment_method is not None and detail.payment_method.last4 == "4242"
    assert (detail.status, detail.plan, detail.id) == (AccountStatus.Active, SubscriptionPlan.Premium, str(ref.id))


def test_detail_of_an_account_without_a_subscription(conn: Connection) -> None:
    conn.execute(insert(Tenant).values(id=42, created_at=NOW, name="Bare", state="Active", plan="Basis"))
    detail = account_detail(conn, 42, NOW)
    assert (detail.subscribed_since, detail.has_ever_subscribed, detail.lifetime_value) == (None, False, None)
    assert (detail.status, detail.cancel_at_period_end, detail.billing_address) == (AccountStatus.Free, False, None)


def test_lifetime_value_leaves_out_refunded_and_credit_noted_payments(conn: Connection) -> None:
    paid = {"amount_excluding_tax": "80", "tax": "20"}
    ref = f.tenant(
        conn,
        name="Five",
        plan="Standard",
        payment_transactions=[
            f.payment_transaction(**paid),
            f.payment_transaction(**paid, status="Refunded"),
            f.payment_transaction(**paid),
            f.payment_transaction(**paid, CreditNoteUrl="https://stripe/cn.pdf"),
            f.payment_transaction(**paid, RefundedAt=day(3, 1).isoformat()),
        ],
    )
    assert account_detail(conn, ref.id, NOW).lifetime_value == Decimal("160.00")


@pytest.mark.parametrize("tenant_id", ["123", "not-a-number", "99999999999999999999"])
def test_unknown_account_is_not_found(conn: Connection, tenant_id: str) -> None:
    with pytest.raises(NotFound, match=f"tenant {tenant_id} not found"):
        account_detail(conn, tenant_id, NOW)


def test_soft_deleted_account_is_not_found(conn: Connection) -> None:
    ref = f.tenant(conn, name="Gone", deleted_at=NOW)
    for read in (
        lambda: account_detail(conn, ref.id, NOW),
        lambda: account_summary(conn, ref.id, NOW),
        lambda: payment_history(conn, ref.id),
        lambda: tenant_users(conn, ref.id),
        lambda: user_counts(conn, ref.id, NOW),
        lambda: tenant_activity(conn, ref.id),
    ):
        with pytest.raises(NotFound):
            read()


def test_drift_and_stripe_link(conn: Connection) -> None:
    ref = f.tenant(
        conn,
        name="Drifting",
        plan="Standard",
        has_drift_detected=True,
        drift_checked_at=NOW,
        drift_discrepancies=[
            {
                "Kind": "MissingEvent",
                "Description": "No billing events for 1 transaction.",
                "Severity": "Warning",
                "ExpectedEventType": None,
                "ExpectedValue": "1",
                "ActualValue": "0",
                "OccurredAt": None,
            }
        ],
    )
    detail = account_detail(conn, ref.id, NOW, stripe_api_key="sk_test_abc")
    assert detail.has_drift_detected and [d.kind for d in detail.drift_discrepancies] == ["MissingEvent"]
    assert detail.stripe_customer_url == f"https://dashboard.stripe.com/test/customers/cus_{ref.id}"
    # docs/rules.md R120: without a key the mode is unknown and the link is live.
    live = account_detail(conn, ref.id, NOW)
    assert live.stripe_customer_url == f"https://dashboard.stripe.com/customers/cus_{ref.id}"
    assert stripe_customer_url("cus_1", "sk_live_x") == "https://dashboard.stripe.com/customers/cus_1"


def test_payment_history_pages_newest_first(conn: Connection) -> None:
    ref = tenant1(conn)
    f.set_payment_transactions(
        conn,
        ref.id,
        [
            f.payment_transaction(date=day(1, 1)),
            f.payment_transaction(date=day(2, 1)),
            f.payment_transaction(date=day(3, 1), status="Failed", FailureReason="Card declined."),
        ],
    )
    page = payment_history(conn, ref.id, page=PageRequest(1, 2))
    assert (page.total, len(page.items)) == (3, 2)
    first = page.items[0]
    assert (first.status, first.plan, first.failure_reason, first.date) == (
        PaymentTransactionStatus.Failed,
        "Standard",
        "Card declined.",
        day(3, 1),
    )
    assert page.items[1].date == day(2, 1)
    assert [p.date for p in payment_history(conn, ref.id, page=PageRequest(2, 2)).items] == [day(1, 1)]


def test_a_refund_with_a_credit_note_stays_one_row(conn: Connection) -> None:
    ref = tenant1(conn)
    noted = day(1, 4, 10, 30)
    f.set_payment_transactions(
        conn,
        ref.id,
        [
            f.payment_transaction(
                date=day(1, 1),
                status="Refunded",
                CreditNoteUrl="https://stripe/cn.pdf",
                CreditNotedAt=noted.isoformat(),
                InvoiceUrl="https://stripe/in.pdf",
            )
        ],
    )
    page = payment_history(conn, ref.id)
    assert page.total == 1
    row = page.items[0]
    assert (row.status, row.refunded, row.credit_noted, row.credit_noted_at) == (
        PaymentTransactionStatus.Refunded,
        True,
        True,
        noted,
    )
    assert (row.invoice_url, row.credit_note_url) == ("https://stripe/in.pdf", "https://stripe/cn.pdf")
    assert (row.amount, row.amount_excluding_tax, row.tax_amount) == (
        Decimal("186.25"),
        Decimal("149.00"),
        Decimal("37.25"),
    )


def test_a_refund_without_a_credit_note_stays_one_row(conn: Connection) -> None:
    ref = tenant1(conn)
    f.set_payment_transactions(
        conn, ref.id, [f.payment_transaction(date=day(4, 1), status="Refunded", RefundedAt=day(4, 5).isoformat())]
    )
    [row] = payment_history(conn, ref.id).items
    assert (row.date, row.refunded, row.refunded_at, row.credit_noted) == (day(4, 1), True, day(4, 5), False)


def test_payment_history_without_transactions_and_past_the_end(conn: Connection) -> None:
    ref = tenant1(conn)
    assert payment_history(conn, ref.id).total == 0
    f.set_payment_transactions(conn, ref.id, [f.payment_transaction()])
    page = payment_history(conn, ref.id, page=PageRequest(3, 25))
    assert (page.items, page.total) == ([], 1)
    with pytest.raises(NotFound):
        payment_history(conn, 123)


def test_user_counts(conn: Connection) -> None:
    ref = tenant1(conn)
    for seen in (NOW - timedelta(days=1), NOW - timedelta(days=15), NOW - timedelta(days=60), None):
        f.user(conn, ref.id, last_seen_at=seen)
    f.user(conn, ref.id, last_seen_at=None, email_confirmed=False)
    f.user(conn, ref.id, last_seen_at=NOW, deleted_at=NOW)
    counts = user_counts(conn, ref.id, NOW)
    assert (counts.total_users, counts.active_users, counts.pending_users, counts.inactive_users) == (7, 2, 1, 4)
    assert counts.activation_percent == 29


def test_an_unconfirmed_user_is_pending_not_active(conn: Connection) -> None:
    ref = f.tenant(conn, name="Solo")
    f.user(conn, ref.id, last_seen_at=NOW - timedelta(days=1), email_confirmed=False)
    counts = user_counts(conn, ref.id, NOW)
    assert (counts.pending_users, counts.active_users, counts.activation_percent) == (1, 0, 0)
    with pytest.raises(NotFound):
        user_counts(conn, 123, NOW)


def test_tenant_users_stay_in_their_tenant(conn: Connection) -> None:
    ref = tenant1(conn)
    f.user(conn, ref.id, email="alice@tenant-1.com", role="Owner", first_name="Alice")
    f.user(conn, ref.id, email="bob@tenant-1.com", first_name="Bob")
    other = f.tenant(conn, name="Other")
    f.user(conn, other.id, email="outsider@other.com")
    page = tenant_users(conn, ref.id)
    assert page.total == 4
    assert not any(u.email.endswith("@other.com") for u in page.items)


def test_tenant_users_search_and_roles(conn: Connection) -> None:
    ref = tenant1(conn)
    f.user(conn, ref.id, email="charlie@tenant-1.com", first_name="Charlie", last_name="Brown")
    f.user(conn, ref.id, email="owen@tenant-1.com", role="Owner", first_name="Owen", title="Chief Finance")
    f.user(conn, ref.id, email="mike@tenant-1.com", role="Member", first_name="Mike")
    assert [u.email for u in tenant_users(conn, ref.id, search="charlie").items] == ["charlie@tenant-1.com"]
    assert [u.email for u in tenant_users(conn, ref.id, search="CHARLIE BROWN").items] == ["charlie@tenant-1.com"]
    assert [u.email for u in tenant_users(conn, ref.id, search="finance").items] == ["owen@tenant-1.com"]
    owners = tenant_users(conn, ref.id, roles=[UserRole.Owner])
    assert owners.total == 2 and all(u.role is UserRole.Owner for u in owners.items)


def test_tenant_users_role_filter_counts_before_paging(conn: Connection) -> None:
    ref = tenant1(conn)
    for _ in range(30):
        f.user(conn, ref.id)
    page = tenant_users(conn, ref.id, roles=[UserRole.Owner], page=PageRequest(1, 5))
    assert page.total == 1 and [u.role for u in page.items] == [UserRole.Owner]
    with pytest.raises(NotFound):
        tenant_users(conn, 123)


def test_tenant_users_order_named_users_first(conn: Connection) -> None:
    ref = f.tenant(conn, name="Names")
    f.user(conn, ref.id, email="z@x.com", first_name=None, last_name=None)
    f.user(conn, ref.id, email="b@x.com", first_name="bea", last_name=None, email_confirmed=False)
    f.user(conn, ref.id, email="a@x.com", first_name="Bea", last_name="Andersen")
    f.user(conn, ref.id, email="c@x.com", first_name="Ada", last_name="Zed")
    page = tenant_users(conn, ref.id)
    assert [u.email for u in page.items] == ["c@x.com", "a@x.com", "b@x.com", "z@x.com"]
    assert [u.display_name for u in page.items] == ["Ada Zed", "Bea Andersen", "bea", "z@x.com"]
    assert page.items[2].status is UserStatus.Pending


def test_activity_is_always_empty(conn: Connection) -> None:
    ref = tenant1(conn)
    assert tenant_activity(conn, ref.id) == []
    with pytest.raises(NotFound):
        tenant_activity(conn, 123)


def test_side_pane_summary(conn: Connection) -> None:
    ref = f.tenant(
        conn,
        name="Acme",
        plan="Premium",
        scheduled_plan="Standard",
        scheduled_price_amount=Decimal("149.00"),
        payment_transactions=[
            f.payment_transaction(date=day(1, 1)),
            f.payment_transaction(date=day(2, 1), amount_excluding_tax="299.00", tax="74.75"),
        ],
    )
    f.user(conn, ref.id, email="owner@acme.com", role="Owner", last_seen_at=NOW - timedelta(days=40))
    for days in (1, 2, 3, 4):
        f.user(conn, ref.id, email=f"seen{days}@acme.com", last_seen_at=NOW - timedelta(days=days))
    summary = account_summary(conn, ref.id, NOW)
    assert (summary.status, summary.monthly_recurring_revenue, summary.forward_monthly_recurring_revenue) == (
        AccountStatus.Downgrading,
        Decimal("299.00"),
        Decimal("149.00"),
    )
    assert summary.mrr_changes_at_renewal
    assert (summary.last_invoice_date, summary.last_invoice_amount_excluding_tax) == (day(2, 1), Decimal("299.00"))
    assert summary.lifetime_value == Decimal("448.00")
    assert [u.email for u in summary.owners.items] == ["owner@acme.com"]
    assert [u.email for u in summary.top_users] == ["seen1@acme.com", "seen2@acme.com", "seen3@acme.com"]
    assert (summary.user_counts.total_users, summary.user_counts.active_users) == (5, 4)
