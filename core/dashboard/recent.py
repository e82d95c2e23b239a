"""The dashboard's "recent" cards, newest first (docs/figures.md#recent-cards,
docs/rules.md R76, R84: 5 paid signups with plan, 10 billing events with MRR after)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import Connection, text

from db.enums import BillingEventType, LoginMethod, PaymentTransactionStatus, SubscriptionPlan

T = TypeVar("T")

MAX_LIMIT = 50
SIGNUPS_LIMIT = 5
BILLING_EVENTS_LIMIT = 10
PAYMENTS_LIMIT = 6
LOGINS_LIMIT = 6
LOGINS_LOOK_BACK = timedelta(days=30)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


@dataclass(frozen=True)
class Owner:
    user_id: str
    first_name: str | None
    last_name: str | None
    email: str


@dataclass(frozen=True)
class RecentSignup:
    tenant_id: str
    name: str
    tenant_logo_url: str | None
    plan: SubscriptionPlan
    created_at: datetime
    subscribed_since: datetime | None
    owner: Owner | None


@dataclass(frozen=True)
class RecentBillingEvent:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    type: BillingEventType
    from_plan: SubscriptionPlan | None
    to_plan: SubscriptionPlan | None
    amount_delta: Decimal | None
    committed_mrr: Decimal  # MRR after the event
    currency: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class RecentPayment:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    date: datetime
    plan: SubscriptionPlan | None
    amount: Decimal  # gross, what the card paid
    currency: str
    status: PaymentTransactionStatus


@dataclass(frozen=True)
class RecentLogin:
    user_id: str | None
    email: str
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    tenant_id: str | None
    tenant_name: str | None
    tenant_logo_url: str | None
    method: LoginMethod
    occurred_at: datetime


@dataclass(frozen=True)
class RecentItems(Generic[T]):
    items: tuple[T, ...]


# A paid signup is a live tenant on a paid plan, newest by when it subscribed;
# one still waiting for its first sync (no subscribed_since) comes last.
# Owner: the earliest-created live Owner (tie: smaller id).
RECENT_SIGNUPS_SQL = text(
    """
    SELECT t.id::text AS tenant_id, t.name, t.logo->>'Url' AS logo_url, t.plan, t.created_at,
           s.subscribed_since, o.id AS owner_id, o.first_name, o.last_name, o.email
    FROM subscriptions AS s
    JOIN tenants AS t ON t.id = s.tenant_id
    LEFT JOIN LATERAL (
        SELECT u.id, u.first_name, u.last_name, u.email
        FROM users AS u
        WHERE u.tenant_id = t.id AND u.role = 'Owner' AND u.deleted_at IS NULL
        ORDER BY u.created_at, u.id
        LIMIT 1
    ) AS o ON true
    WHERE t.deleted_at IS NULL AND t.plan <> 'Basis'
    ORDER BY s.subscribed_since DESC NULLS LAST, s.tenant_id DESC
    LIMIT :limit
    """
)

# NoOp rows are audit-only; rows of soft-deleted tenants are left out before
# the limit, so the card is full whenever enough rows exist.
RECENT_BILLING_EVENTS_SQL = text(
    """
    SELECT b.id, b.tenant_id::text AS tenant_id, t.name AS tenant_name, t.logo->>'Url' AS logo_url,
           b.event_type, b.from_plan, b.to_plan, b.amount_delta, b.committed_mrr, b.currency, b.occurred_at
    FROM billing_events AS b
    JOIN tenants AS t ON t.id = b.tenant_id
    WHERE b.event_type <> 'NoOp' AND t.deleted_at IS NULL
    ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
    LIMIT :limit
    """
)

# Raw transactions (not split into invoice and refund rows), raw status.
RECENT_PAYMENTS_SQL = text(
    """
    SELECT p.transaction_id AS id, p.tenant_id::text AS tenant_id, tn.name AS tenant_name,
           tn.logo->>'Url' AS logo_url, p.date, p.plan, p.amount, p.currency, p.status
    FROM payment_transaction_rows AS p
    JOIN tenants AS tn ON tn.id = p.tenant_id
    WHERE tn.deleted_at IS NULL AND p.date IS NOT NULL
    ORDER BY p.date DESC, p.transaction_id DESC
    LIMIT :limit
    """
)

# Successful logins of the last 30 days; the e-mail is resolved to the first
# live user with it (lowest id) across tenants, and that user's tenant.
RECENT_LOGINS_SQL = text(
    """
    WITH logins AS (
        (SELECT id, email, 'OneTimePassword' AS method, created_at
         FROM email_logins
         WHERE completed AND created_at >= :since
         ORDER BY created_at DESC, id DESC
         LIMIT :limit)
        UNION ALL
        (SELECT id, email, provider_type, created_at
         FROM external_logins
         WHERE login_result = 'Success' AND email IS NOT NULL AND created_at >= :since
         ORDER BY created_at DESC, id DESC
         LIMIT :limit)
    ),
    newest AS (SELECT * FROM logins ORDER BY created_at DESC, id DESC LIMIT :limit)
    SELECT l.email, l.method, l.created_at, u.id AS user_id, u.first_name, u.last_name,
           u.avatar->>'Url' AS avatar_url, t.id::text AS tenant_id, t.name AS tenant_name,
           t.logo->>'Url' AS logo_url
    FROM newest AS l
    LEFT JOIN LATERAL (
        SELECT u.id, u.tenant_id, u.first_name, u.last_name, u.avatar
        FROM users AS u
        WHERE u.email = l.email AND u.deleted_at IS NULL
        ORDER BY u.id
        LIMIT 1
    ) AS u ON true
    LEFT JOIN tenants AS t ON t.id = u.tenant_id AND t.deleted_at IS NULL
    ORDER BY l.created_at DESC, l.id DESC
    """
)


def _plan(value: str | None) -> SubscriptionPlan | None:
    return SubscriptionPlan(value) if value else None


def recent_signups(conn: Connection, limit: int = SIGNUPS_LIMIT) -> RecentItems[RecentSignup]:
    rows = conn.execute(RECENT_SIGNUPS_SQL, {"limit": check_limit(limit)})
    return RecentItems(
        tuple(
            RecentSignup(
                tenant_id=row.tenant_id,
                name=row.name,
                tenant_logo_url=row.logo_url,
                plan=SubscriptionPlan(row.plan),
                created_at=row.created_at,
                subscribed_since=row.subscribed_since,
                owner=Owner(row.owner_id, row.first_name, row.last_name, row.email) if row.owner_id else None,
            )
            for row in rows
        )
    )


def recent_billing_events(conn: Connection, limit: int = BILLING_EVENTS_LIMIT) -> RecentItems[RecentBillingEvent]:
    rows = conn.execute(RECENT_BILLING_EVENTS_SQL, {"limit": check_limit(limit)})
    return RecentItems(
        tuple(
            RecentBillingEvent(
                id=row.id,
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                tenant_logo_url=row.logo_url,
                type=BillingEventType(row.event_type),
                from_plan=_plan(row.from_plan),
                to_plan=_plan(row.to_plan),
                amount_delta=row.amount_delta,
                committed_mrr=row.committed_mrr,
                currency=row.currency,
                occurred_at=row.occurred_at,
            )
            for row in rows
        )
    )


def recent_payments(conn: Connection, limit: int = PAYMENTS_LIMIT) -> RecentItems[RecentPayment]:
    rows = conn.execute(RECENT_PAYMENTS_SQL, {"limit": check_limit(limit)})
    return RecentItems(
        tuple(
            RecentPayment(
                id=row.id,
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                tenant_logo_url=row.logo_url,
                date=row.date,
                plan=_plan(row.plan),
                amount=Decimal(row.amount),
                currency=row.currency,
                status=PaymentTransactionStatus(row.status),
            )
            for row in rows
        )
    )


def recent_logins(conn: Connection, now: datetime, limit: int = LOGINS_LIMIT) -> RecentItems[RecentLogin]:
    rows = conn.execute(RECENT_LOGINS_SQL, {"limit": check_limit(limit), "since": now - LOGINS_LOOK_BACK})
    return RecentItems(
        tuple(
            RecentLogin(
                user_id=row.user_id,
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                avatar_url=row.avatar_url,
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                tenant_logo_url=row.logo_url,
                method=LoginMethod(row.method),
                occurred_at=row.created_at,
            )
            for row in rows
        )
    )
