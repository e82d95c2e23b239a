"""Typed SQLAlchemy 2 models of every table the back office reads or writes.

Names, types and indexes are the shared database's, which the product writes
too (ARCHITECTURE.md#where-state-lives; tests/db/test_schema.py checks the index
names); billing_events carries the amounts and the facts of docs/rules.md R12.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Money = Numeric(18, 2)
TimestampTz = TIMESTAMP(timezone=True)

# Primary keys are named pk_<table>; indexes, foreign keys and checks are named
# where they are declared.
metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

# A payment transaction must carry a JSON number >= 0 in each amount key
# (docs/rules.md R44: the CHECK refuses anything else).
PAYMENT_AMOUNTS_PATH = (
    '$[*] ? (!(@.AmountExcludingTax.type() == "number") || @.AmountExcludingTax < 0'
    ' || !(@.TaxAmount.type() == "number") || @.TaxAmount < 0'
    ' || !(@.InvoiceTotal.type() == "number") || @.InvoiceTotal < 0'
    ' || !(@.AmountFromCredit.type() == "number") || @.AmountFromCredit < 0)'
)
PAYMENT_CURRENCY_PATH = '$[*] ? (!(@.Currency.type() == "string") || !(@.Currency like_regex "^[A-Z]{3}$"))'


class Base(DeclarativeBase):
    metadata = metadata


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    deleted_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    name: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    plan: Mapped[str] = mapped_column(Text)
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    logo: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class User(Base):
    __tablename__ = "users"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id", name="fk_users_tenants_tenant_id"))
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    deleted_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    last_seen_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    email: Mapped[str] = mapped_column(Text)
    external_identities: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    email_confirmed: Mapped[bool] = mapped_column(Boolean)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text, server_default="")
    avatar: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        Index("ix_users_tenant_id", "tenant_id"),
        Index(
            "ix_users_tenant_id_email",
            "tenant_id",
            "email",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Session(Base):
    __tablename__ = "sessions"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id", name="fk_sessions_tenants_tenant_id"))
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", name="fk_sessions_users_user_id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    refresh_token_jti: Mapped[str] = mapped_column(Text)
    previous_refresh_token_jti: Mapped[str | None] = mapped_column(Text)
    refresh_token_version: Mapped[int] = mapped_column(Integer)
    login_method: Mapped[str] = mapped_column(Text)
    device_type: Mapped[str] = mapped_column(Text)
    user_agent: Mapped[str] = mapped_column(Text)
    ip_address: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_sessions_tenant_id", "tenant_id"),
        Index("ix_sessions_user_id", "user_id"),
    )


class EmailLogin(Base):
    __tablename__ = "email_logins"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    type: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    one_time_password_hash: Mapped[str] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer)
    resend_count: Mapped[int] = mapped_column(Integer)
    completed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_email_logins_email", "email"),)


class ExternalLogin(Base):
    __tablename__ = "external_logins"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    type: Mapped[str] = mapped_column(Text)
    provider_type: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    code_verifier: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(Text)
    browser_fingerprint: Mapped[str] = mapped_column(Text)
    login_result: Mapped[str | None] = mapped_column(Text)

    # One index only, by e-mail: login history reads by e-mail (docs/rules.md R90).
    __table_args__ = (Index("ix_external_logins_email", "email"),)


class Subscription(Base):
    __tablename__ = "subscriptions"

    tenant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tenants.id", name="fk_subscriptions_tenants_tenant_id")
    )
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    plan: Mapped[str] = mapped_column(Text)
    scheduled_plan: Mapped[str | None] = mapped_column(Text)
    stripe_customer_id: Mapped[str | None] = mapped_column(Text)
    stripe_subscription_id: Mapped[str | None] = mapped_column(Text)
    current_price_amount: Mapped[Decimal | None] = mapped_column(Money)
    current_price_currency: Mapped[str | None] = mapped_column(Text)
    current_period_end: Mapped[datetime | None] = mapped_column(TimestampTz)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    first_payment_failed_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancellation_feedback: Mapped[str | None] = mapped_column(Text)
    payment_transactions: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    payment_method: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_info: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    subscribed_since: Mapped[datetime | None] = mapped_column(TimestampTz)
    last_synced_stripe_event_created_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    scheduled_price_amount: Mapped[Decimal | None] = mapped_column(Money)
    has_drift_detected: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    drift_checked_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    drift_discrepancies: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))

    __table_args__ = (
        Index("ix_subscriptions_tenant_id", "tenant_id", unique=True),
        Index(
            "ix_subscriptions_stripe_customer_id",
            "stripe_customer_id",
            unique=True,
            postgresql_where=text("stripe_customer_id IS NOT NULL"),
        ),
        Index(
            "ix_subscriptions_has_drift_detected",
            "has_drift_detected",
            postgresql_where=text("has_drift_detected = true"),
        ),
        CheckConstraint(
            f"NOT jsonb_path_exists(payment_transactions, '{PAYMENT_AMOUNTS_PATH}')",
            name="chk_subscriptions_payment_transactions_amounts_non_negative",
        ),
        CheckConstraint(
            f"NOT jsonb_path_exists(payment_transactions, '{PAYMENT_CURRENCY_PATH}')",
            name="chk_subscriptions_payment_transactions_currency_format",
        ),
        CheckConstraint(
            "current_price_currency IS NULL OR current_price_currency ~ '^[A-Z]{3}$'",
            name="chk_subscriptions_current_price_currency_format",
        ),
    )


class StripeEvent(Base):
    __tablename__ = "stripe_events"

    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    event_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    stripe_customer_id: Mapped[str | None] = mapped_column(Text)
    stripe_subscription_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    api_version: Mapped[str | None] = mapped_column(Text)
    recovered_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    recovery_source: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str | None] = mapped_column(Text)
    stripe_created_at: Mapped[datetime | None] = mapped_column(TimestampTz)

    __table_args__ = (
        Index("ix_stripe_events_tenant_id", "tenant_id"),
        Index("ix_stripe_events_stripe_customer_id_status", "stripe_customer_id", "status"),
        Index(
            "ix_stripe_events_recovered_at",
            "recovered_at",
            postgresql_where=text("recovered_at IS NOT NULL"),
        ),
    )


class BillingEvent(Base):
    __tablename__ = "billing_events"

    tenant_id: Mapped[int] = mapped_column(BigInteger)
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TimestampTz)
    modified_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    stripe_event_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    from_plan: Mapped[str | None] = mapped_column(Text)
    to_plan: Mapped[str | None] = mapped_column(Text)
    previous_amount: Mapped[Decimal | None] = mapped_column(Money)
    new_amount: Mapped[Decimal | None] = mapped_column(Money)
    amount_delta: Mapped[Decimal | None] = mapped_column(Money)
    committed_mrr: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(TimestampTz)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    # The facts the Stripe event tells, null when it does not (docs/rules.md R12).
    days_on_previous_plan: Mapped[int | None] = mapped_column(Integer)
    days_until_effective: Mapped[int | None] = mapped_column(Integer)
    days_since_cancelled: Mapped[int | None] = mapped_column(Integer)
    scheduled_for: Mapped[datetime | None] = mapped_column(TimestampTz)
    effective_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    stripe_reference: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_billing_events_stripe_event_id", "stripe_event_id", unique=True),
        Index("ix_billing_events_tenant_id_occurred_at", "tenant_id", text("occurred_at DESC")),
        Index("ix_billing_events_occurred_at", text("occurred_at DESC")),
        Index("ix_billing_events_subscription_id", "subscription_id"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="chk_billing_events_currency_format"),
        CheckConstraint("committed_mrr >= 0", name="chk_billing_events_committed_mrr_non_negative"),
    )


class StripeSyncCursor(Base):
    """Where `stripe poll` left off in Stripe's events list (one row per source)."""

    __tablename__ = "stripe_sync_cursors"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    last_event_id: Mapped[str | None] = mapped_column(Text)
    last_event_created_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    updated_at: Mapped[datetime] = mapped_column(TimestampTz, server_default=func.now())


class BillingDriftCheck(Base):
    """A drift check that found something or cleared earlier findings; the
    subscription row holds only the latest (docs/rules.md R53: keep the history)."""

    __tablename__ = "billing_drift_checks"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    subscription_id: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(TimestampTz)
    has_drift_detected: Mapped[bool] = mapped_column(Boolean)
    discrepancies: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    acknowledged_by: Mapped[str | None] = mapped_column(Text)


class OperatorAction(Base):
    """One admin action, as it ended (migration 0010): append-only, newest
    first. `db_role` is PostgreSQL's current_user when the row was written."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TimestampTz, server_default=func.now())
    operator: Mapped[str] = mapped_column(Text)
    db_role: Mapped[str] = mapped_column(Text, server_default=text("CURRENT_USER"))
    path: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class PaymentTransactionRow(Base):
    """One row per element of subscriptions.payment_transactions, rewritten by
    a trigger in the statement that changes the array (never stale)."""

    __tablename__ = "payment_transaction_rows"

    subscription_id: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            "subscriptions.id", name="fk_payment_transaction_rows_subscriptions_subscription_id", ondelete="CASCADE"
        ),
        primary_key=True,
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime | None] = mapped_column(TimestampTz)
    status: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    amount_excluding_tax: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    counts_as_revenue: Mapped[bool] = mapped_column(Boolean)
    # dt.date: the column `date` above shadows the type's name in this class.
    added_on: Mapped[dt.date | None] = mapped_column(Date)
    reversed_on: Mapped[dt.date | None] = mapped_column(Date)
    tax_amount: Mapped[Decimal | None] = mapped_column(Money)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    invoice_url: Mapped[str | None] = mapped_column(Text)
    credit_note_url: Mapped[str | None] = mapped_column(Text)
    credit_noted_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    refunded_at: Mapped[datetime | None] = mapped_column(TimestampTz)
    invoice_status: Mapped[str | None] = mapped_column(Text)
    reversal_kind: Mapped[str | None] = mapped_column(Text)
    reversed_at: Mapped[datetime | None] = mapped_column(TimestampTz)


# Summary tables kept by triggers in the same statement as their source rows
# (migrations 0005 and 0006), so dashboard figures and list totals never scan
# the history they summarise and can never be stale. Counters are split into
# shards so concurrent writers do not queue on one row.


class LoginUserDay(Base):
    __tablename__ = "login_user_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    email: Mapped[str] = mapped_column(Text, primary_key=True)
    successes: Mapped[int] = mapped_column(Integer)


class LoginDayCount(Base):
    __tablename__ = "login_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    distinct_users: Mapped[int] = mapped_column(Integer)


class LiveUserDay(Base):
    __tablename__ = "live_user_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    created: Mapped[int] = mapped_column(Integer)
    last_seen: Mapped[int] = mapped_column(Integer)


class LedgerSubscription(Base):
    __tablename__ = "ledger_subscriptions"

    subscription_id: Mapped[str] = mapped_column(Text, primary_key=True)


class MrrDayChange(Base):
    __tablename__ = "mrr_day_changes"

    subscription_id: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    change: Mapped[Decimal] = mapped_column(Money)


class MrrDay(Base):
    __tablename__ = "mrr_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    change: Mapped[Decimal] = mapped_column(Money)


class RevenueDay(Base):
    __tablename__ = "revenue_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)


class SubscriptionRevenue(Base):
    __tablename__ = "subscription_revenue"

    subscription_id: Mapped[str] = mapped_column(Text, primary_key=True)
    revenue: Mapped[Decimal] = mapped_column(Money)
    in_total_revenue: Mapped[bool] = mapped_column(Boolean)


class InvoiceRowCount(Base):
    __tablename__ = "invoice_row_counts"

    row_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    row_status: Mapped[str] = mapped_column(Text, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    invoice_rows: Mapped[int] = mapped_column(BigInteger)


class BillingEventDayCount(Base):
    __tablename__ = "billing_event_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(Text, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)


class DeletedAccountEventDayCount(Base):
    """Billing events of soft-deleted tenants per UTC day and type (0015, docs/rules.md R220)."""

    __tablename__ = "deleted_account_event_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(Text, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)


class DeletedAccountInvoiceRowCount(Base):
    """Invoice-list rows of soft-deleted tenants per kind and status (0015, docs/rules.md R220)."""

    __tablename__ = "deleted_account_invoice_row_counts"

    row_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    row_status: Mapped[str] = mapped_column(Text, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    invoice_rows: Mapped[int] = mapped_column(BigInteger)


class AccountClass(Base):
    """Each tenant's class (0013, docs/rules.md R190); null columns: locked, not yet counted."""

    __tablename__ = "account_classes"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    live: Mapped[bool | None] = mapped_column(Boolean)
    plan: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str | None] = mapped_column(Text)
    ever_paid: Mapped[bool | None] = mapped_column(Boolean)
    unsynced: Mapped[bool | None] = mapped_column(Boolean)
    drift: Mapped[bool | None] = mapped_column(Boolean)
    forward_mrr: Mapped[Decimal | None] = mapped_column(Numeric)


class AccountClassCount(Base):
    """Tenants and their forward MRR per class and shard (0013, docs/rules.md R190)."""

    __tablename__ = "account_class_counts"

    live: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    plan: Mapped[str] = mapped_column(Text, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    ever_paid: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    unsynced: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    drift: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    tenants: Mapped[int] = mapped_column(BigInteger)
    forward_mrr: Mapped[Decimal] = mapped_column(Numeric)


class MrrMovementDay(Base):
    __tablename__ = "mrr_movement_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    new_mrr: Mapped[Decimal] = mapped_column(Money)
    expansion_mrr: Mapped[Decimal] = mapped_column(Money)
    reactivation_mrr: Mapped[Decimal] = mapped_column(Money)
    contraction_mrr: Mapped[Decimal] = mapped_column(Money)
    churned_mrr: Mapped[Decimal] = mapped_column(Money)


class LiveTenantDay(Base):
    __tablename__ = "live_tenant_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    created: Mapped[int] = mapped_column(Integer)


class SessionHour(Base):
    __tablename__ = "session_hours"

    hour: Mapped[datetime] = mapped_column(TimestampTz, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    started: Mapped[int] = mapped_column(Integer)


class CountedUserDay(Base):
    __tablename__ = "counted_user_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


class CountedUserHour(Base):
    __tablename__ = "counted_user_hours"

    hour: Mapped[datetime] = mapped_column(TimestampTz, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    users: Mapped[int] = mapped_column(Integer)
