"""One account: the side pane, the detail page with its tiles, its payment
history and activity (docs/figures.md#account, docs/figures.md#side-pane, docs/rules.md R49).
Its users are in core.account_users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core import money
from core.account_status import (
    HAS_EVER_SUBSCRIBED_SQL,
    PAYMENT_FAILING_SQL,
    STATUS_SQL,
    AccountState,
    AccountStatus,
    PlannedChange,
    Renewal,
    account_state,
    displayed_forward_mrr,
    mrr_changes_at_renewal,
    planned_change,
    renewal,
)
from core.account_users import TenantUser, UserCounts, tenant_users, top_users, user_counts
from core.accounts import require_account
from core.errors import NotFound
from core.listing import as_utc, parse_tenant_id
from core.paging import Page, PageRequest
from core.stripe_links import StripeMode, customer_url, stripe_mode, subscription_url
from db.enums import PaymentTransactionStatus, SubscriptionPlan, UserRole


@dataclass(frozen=True)
class BillingAddress:
    line1: str | None
    line2: str | None
    postal_code: str | None
    city: str | None
    state: str | None
    country: str | None


@dataclass(frozen=True)
class PaymentMethod:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class DriftSubject(StrEnum):
    """What a SubscriptionStateMismatch is about."""

    Plan = "Plan"
    CancelAtPeriodEnd = "CancelAtPeriodEnd"
    Price = "Price"
    Currency = "Currency"


# A state mismatch is stored with the sentence the drift check writes
# (stripe_sync/drift.py `detect`); its opening words name the field, in rows
# old and new alike.
_SUBJECT_OF_DESCRIPTION = {
    "Plan differs": DriftSubject.Plan,
    "Cancel-at-period-end differs": DriftSubject.CancelAtPeriodEnd,
    "Current price amount differs": DriftSubject.Price,
    "Currency differs": DriftSubject.Currency,
}


@dataclass(frozen=True)
class DriftDiscrepancy:
    """One drift finding. For a state mismatch `expected_value` is Stripe's
    value and `actual_value` ours; other kinds say in their own fields."""

    kind: str
    subject: DriftSubject | None  # a state mismatch's field
    description: str | None
    severity: str | None
    expected_event_type: str | None
    expected_value: str | None
    actual_value: str | None
    occurred_at: str | None


@dataclass(frozen=True)
class Drift:
    """An account's latest drift check, for the `sync` command's findings."""

    checked_at: datetime | None
    currency: str | None
    discrepancies: list[DriftDiscrepancy]


@dataclass(frozen=True)
class Payment:
    """One Stripe transaction, its refund and credit note shown on the row."""

    id: str
    date: datetime
    plan: str | None
    amount: Decimal  # gross, what the card paid
    amount_excluding_tax: Decimal
    tax_amount: Decimal
    currency: str
    status: PaymentTransactionStatus
    refunded: bool
    refunded_at: datetime | None
    credit_noted: bool
    credit_noted_at: datetime | None
    failure_reason: str | None
    invoice_url: str | None  # invoice PDF
    credit_note_url: str | None  # credit note PDF
    amount_from_credit: Decimal  # paid from the credit balance: amount + VAT - total


@dataclass(frozen=True)
class AccountDetail:
    """An account's detail (docs/figures.md#account), the derived status (docs/rules.md R73) and
    the health tiles' figures (users, lifetime value since, MRR renewing)."""

    id: str
    name: str
    plan: SubscriptionPlan
    status: AccountStatus
    state: str
    suspension_reason: str | None
    suspended_at: datetime | None
    logo_url: str | None
    created_at: datetime
    modified_at: datetime | None
    scheduled_plan: str | None
    scheduled_price_amount: Decimal | None
    cancel_at_period_end: bool
    planned_change: PlannedChange | None
    monthly_recurring_revenue: Decimal | None  # the current price
    forward_monthly_recurring_revenue: Decimal | None
    mrr_changes_at_renewal: bool
    currency: str | None  # the current price's, else the payment history's
    renewal_date: datetime | None
    renewal: Renewal  # what the renewal date means: renews, expires or expired
    subscribed_since: datetime | None
    has_ever_subscribed: bool
    country: str | None
    billing_name: str | None
    tax_id: str | None
    billing_address: BillingAddress | None
    payment_method: PaymentMethod | None
    lifetime_value: Decimal | None  # None without a subscription
    has_drift_detected: bool
    drift_checked_at: datetime | None
    drift_discrepancies: list[DriftDiscrepancy]
    stripe_customer_url: str | None
    user_counts: UserCounts
    # docs/rules.md R120, R122: Stripe's ids with their dashboard pages, and the pill.
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    stripe_subscription_url: str | None = None
    stripe_mode: StripeMode | None = None  # None: no key configured, the mode is not known
    payment_failing: bool = False
    account_state: AccountState = AccountState.Free


@dataclass(frozen=True)
class AccountSummary:
    """The accounts list's side pane."""

    id: str
    name: str
    plan: SubscriptionPlan
    status: AccountStatus
    state: str
    country: str | None
    renewal_date: datetime | None
    monthly_recurring_revenue: Decimal | None
    forward_monthly_recurring_revenue: Decimal | None
    mrr_changes_at_renewal: bool
    currency: str | None  # the current price's, else the payment history's
    renewal: Renewal
    subscribed_since: datetime | None
    lifetime_value: Decimal | None
    last_invoice_date: datetime | None
    last_invoice_amount_excluding_tax: Decimal | None
    last_invoice_currency: str | None
    owners: Page[TenantUser]
    top_users: list[TenantUser]
    user_counts: UserCounts
    created_at: datetime
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    payment_failing: bool = False
    account_state: AccountState = AccountState.Free


# A canceled account has no current price, but its lifetime value is still
# money in the currency it paid in: the newest transaction's.
_ACCOUNT_SQL = f"""
    SELECT t.*, t.logo->>'Url' AS logo_url, {STATUS_SQL} AS status, s.id AS subscription_id,
           s.cancel_at_period_end, s.scheduled_plan, s.scheduled_price_amount, s.current_price_amount,
           COALESCE(s.current_price_currency, (
               SELECT tx->>'Currency' FROM jsonb_array_elements(s.payment_transactions) AS tx
               ORDER BY tx->>'Date' DESC LIMIT 1
           )) AS currency, s.current_period_end, s.subscribed_since, s.stripe_customer_id,
           s.stripe_subscription_id, {PAYMENT_FAILING_SQL} AS payment_failing,
           s.billing_info, s.payment_method, s.has_drift_detected, s.drift_checked_at, s.drift_discrepancies,
           COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed,
           CASE WHEN s.id IS NOT NULL THEN {money.lifetime_value_sql("s")} END AS lifetime_value
    FROM tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id
    WHERE t.id = :id AND t.deleted_at IS NULL
"""


def _account(conn: Connection, tenant_id: int | str) -> Any:
    row = conn.execute(text(_ACCOUNT_SQL), {"id": parse_tenant_id(tenant_id)}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return row


def account_detail(
    conn: Connection, tenant_id: int | str, now: datetime, *, stripe_api_key: str | None = None
) -> AccountDetail:
    row = _account(conn, tenant_id)
    change = planned_change(row["cancel_at_period_end"], row["scheduled_plan"])
    price, scheduled = row["current_price_amount"], row["scheduled_price_amount"]
    billing = row["billing_info"] or {}
    address = billing.get("Address")
    method = row["payment_method"]
    return AccountDetail(
        id=str(row["id"]),
        name=row["name"],
        plan=SubscriptionPlan(row["plan"]),
        status=AccountStatus(row["status"]),
        state=row["state"],
        suspension_reason=row["suspension_reason"],
        suspended_at=as_utc(row["suspended_at"]),
        logo_url=row["logo_url"],
        created_at=as_utc(row["created_at"]),
        modified_at=as_utc(row["modified_at"]),
        scheduled_plan=row["scheduled_plan"],
        scheduled_price_amount=scheduled,
        cancel_at_period_end=bool(row["cancel_at_period_end"]),
        planned_change=change,
        monthly_recurring_revenue=price,
        forward_monthly_recurring_revenue=displayed_forward_mrr(price, row["cancel_at_period_end"], scheduled),
        mrr_changes_at_renewal=mrr_changes_at_renewal(change, price, scheduled),
        currency=row["currency"],
        renewal_date=as_utc(row["current_period_end"]),
        renewal=renewal(AccountStatus(row["status"]), as_utc(row["current_period_end"]), now),
        subscribed_since=as_utc(row["subscribed_since"]),
        has_ever_subscribed=row["has_ever_subscribed"],
        country=address.get("Country") if address else None,
        billing_name=billing.get("Name"),
        tax_id=billing.get("TaxId"),
        billing_address=_address(address) if address else None,
        payment_method=_payment_method(method) if method else None,
        lifetime_value=row["lifetime_value"],
        has_drift_detected=bool(row["has_drift_detected"]),
        drift_checked_at=as_utc(row["drift_checked_at"]),
        drift_discrepancies=[_discrepancy(item) for item in row["drift_discrepancies"] or []],
        stripe_customer_url=stripe_customer_url(row["stripe_customer_id"], stripe_api_key),
        user_counts=user_counts(conn, row["id"], now),
        stripe_customer_id=row["stripe_customer_id"],
        stripe_subscription_id=row["stripe_subscription_id"],
        stripe_subscription_url=subscription_url(row["stripe_subscription_id"], stripe_api_key),
        stripe_mode=stripe_mode(stripe_api_key),
        payment_failing=row["payment_failing"],
        account_state=account_state(AccountStatus(row["status"]), row["state"], row["payment_failing"]),
    )


def account_summary(conn: Connection, tenant_id: int | str, now: datetime) -> AccountSummary:
    row = _account(conn, tenant_id)
    change = planned_change(row["cancel_at_period_end"], row["scheduled_plan"])
    price, scheduled = row["current_price_amount"], row["scheduled_price_amount"]
    last_invoice = payment_history(conn, row["id"], page=PageRequest(1, 1)).items
    return AccountSummary(
        id=str(row["id"]),
        name=row["name"],
        plan=SubscriptionPlan(row["plan"]),
        status=AccountStatus(row["status"]),
        state=row["state"],
        country=((row["billing_info"] or {}).get("Address") or {}).get("Country"),
        renewal_date=as_utc(row["current_period_end"]),
        monthly_recurring_revenue=price,
        forward_monthly_recurring_revenue=displayed_forward_mrr(price, row["cancel_at_period_end"], scheduled),
        mrr_changes_at_renewal=mrr_changes_at_renewal(change, price, scheduled),
        currency=row["currency"],
        renewal=renewal(AccountStatus(row["status"]), as_utc(row["current_period_end"]), now),
        subscribed_since=as_utc(row["subscribed_since"]),
        lifetime_value=row["lifetime_value"],
        last_invoice_date=last_invoice[0].date if last_invoice else None,
        last_invoice_amount_excluding_tax=last_invoice[0].amount_excluding_tax if last_invoice else None,
        last_invoice_currency=last_invoice[0].currency if last_invoice else None,
        owners=tenant_users(conn, row["id"], roles=[UserRole.Owner], page=PageRequest(1, 100)),
        top_users=top_users(conn, row["id"]),
        user_counts=user_counts(conn, row["id"], now),
        created_at=as_utc(row["created_at"]),
        stripe_customer_id=row["stripe_customer_id"],
        stripe_subscription_id=row["stripe_subscription_id"],
        payment_failing=row["payment_failing"],
        account_state=account_state(AccountStatus(row["status"]), row["state"], row["payment_failing"]),
    )


def stripe_customer_url(customer_id: str | None, stripe_api_key: str | None) -> str | None:
    """Stripe's dashboard page of the customer (docs/rules.md R120: live without a key)."""
    return customer_url(customer_id, stripe_api_key)


def _address(address: dict[str, Any]) -> BillingAddress:
    return BillingAddress(
        line1=address.get("Line1"),
        line2=address.get("Line2"),
        postal_code=address.get("PostalCode"),
        city=address.get("City"),
        state=address.get("State"),
        country=address.get("Country"),
    )


def _payment_method(method: dict[str, Any]) -> PaymentMethod:
    return PaymentMethod(
        brand=method.get("Brand", ""),
        last4=method.get("Last4", ""),
        exp_month=int(method.get("ExpMonth") or 0),
        exp_year=int(method.get("ExpYear") or 0),
    )


def drift(conn: Connection, tenant_id: int | str) -> Drift:
    """The findings of the account's latest drift check."""
    row = _account(conn, tenant_id)
    return Drift(
        checked_at=as_utc(row["drift_checked_at"]),
        currency=row["currency"],
        discrepancies=[_discrepancy(item) for item in row["drift_discrepancies"] or []],
    )


def _discrepancy(item: dict[str, Any]) -> DriftDiscrepancy:
    description = item.get("Description") or ""
    subject = next((s for opening, s in _SUBJECT_OF_DESCRIPTION.items() if description.startswith(opening)), None)
    return DriftDiscrepancy(
        kind=item.get("Kind", ""),
        subject=subject if item.get("Kind") == "SubscriptionStateMismatch" else None,
        description=item.get("Description"),
        severity=item.get("Severity"),
        expected_event_type=item.get("ExpectedEventType"),
        expected_value=item.get("ExpectedValue"),
        actual_value=item.get("ActualValue"),
        occurred_at=item.get("OccurredAt"),
    )


def payment_history(conn: Connection, tenant_id: int | str, *, page: PageRequest = PageRequest()) -> Page[Payment]:
    """The account's Stripe transactions, newest first, one row each."""
    tenant = require_account(conn, tenant_id)
    params = {"id": tenant, "limit": page.page_size, "offset": page.offset}
    total = conn.execute(
        text(
            "SELECT COALESCE(sum(jsonb_array_length(payment_transactions)), 0) FROM subscriptions WHERE tenant_id = :id"
        ),
        params,
    ).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    rows = conn.execute(
        text(
            "SELECT tx->>'Id' AS id, (tx->>'Date')::timestamptz AS date, tx->>'Plan' AS plan,"
            " (tx->>'Amount')::numeric(18, 2) AS amount,"
            " (tx->>'AmountExcludingTax')::numeric(18, 2) AS amount_excluding_tax,"
            " (tx->>'TaxAmount')::numeric(18, 2) AS tax_amount, tx->>'Currency' AS currency,"
            " tx->>'Status' AS status, tx->>'FailureReason' AS failure_reason,"
            " tx->>'InvoiceUrl' AS invoice_url, tx->>'CreditNoteUrl' AS credit_note_url,"
            " (tx->>'RefundedAt')::timestamptz AS refunded_at,"
            " (tx->>'CreditNotedAt')::timestamptz AS credit_noted_at,"
            " COALESCE((tx->>'AmountFromCredit')::numeric(18, 2), 0) AS amount_from_credit"
            " FROM subscriptions s CROSS JOIN LATERAL jsonb_array_elements(s.payment_transactions) AS tx"
            " WHERE s.tenant_id = :id"
            " ORDER BY (tx->>'Date')::timestamptz DESC, tx->>'Id' DESC LIMIT :limit OFFSET :offset"
        ),
        params,
    ).mappings()
    return Page([_payment(row) for row in rows], total, page.page, page.page_size)


def _payment(row: Any) -> Payment:
    status = PaymentTransactionStatus(row["status"])
    return Payment(
        id=row["id"],
        date=as_utc(row["date"]),
        plan=row["plan"],
        amount=row["amount"],
        amount_excluding_tax=row["amount_excluding_tax"],
        tax_amount=row["tax_amount"],
        currency=row["currency"],
        status=status,
        refunded=status is PaymentTransactionStatus.Refunded or row["refunded_at"] is not None,
        refunded_at=as_utc(row["refunded_at"]),
        credit_noted=row["credit_note_url"] is not None or row["credit_noted_at"] is not None,
        credit_noted_at=as_utc(row["credit_noted_at"]),
        failure_reason=row["failure_reason"],
        invoice_url=row["invoice_url"],
        credit_note_url=row["credit_note_url"],
        amount_from_credit=row["amount_from_credit"],
    )


@dataclass(frozen=True)
class ActivityEvent:
    timestamp: datetime
    name: str
    description: str


def tenant_activity(conn: Connection, tenant_id: int | str) -> list[ActivityEvent]:
    """Always empty: a placeholder for future telemetry (docs/rules.md R182)."""
    require_account(conn, tenant_id)
    return []
