"""Builders for test rows. Each inserts through SQLAlchemy Core on the given
connection with sensible defaults; pass only what a test is about."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, update

from core import ids
from db.models import BillingEvent, EmailLogin, ExternalLogin, Session, StripeEvent, Subscription, Tenant, User

NOW = datetime(2026, 5, 8, 12, 0, tzinfo=UTC)
_rng = random.Random(42)
_tenant_sequence = itertools.count(1)
_event_sequence = itertools.count(1)


@dataclass(frozen=True)
class TenantRef:
    id: int
    subscription_id: str


def tenant(
    conn: Connection,
    *,
    name: str = "Acme",
    plan: str = "Basis",
    state: str = "Active",
    created_at: datetime = NOW - timedelta(days=100),
    deleted_at: datetime | None = None,
    **subscription: Any,
) -> TenantRef:
    """A tenant with its subscription; subscription columns as keyword arguments.
    A paid plan gets a price (Standard 149, Premium 299 DKK) unless given."""
    tenant_id = ids.tenant_id(created_at, next(_tenant_sequence))
    conn.execute(
        insert(Tenant).values(
            id=tenant_id, created_at=created_at, name=name, state=state, plan=plan, deleted_at=deleted_at
        )
    )
    subscription_id = ids.prefixed("sub", created_at, _rng)
    values: dict[str, Any] = {"plan": plan, "cancel_at_period_end": False}
    if plan != "Basis":
        values.update(
            current_price_amount=Decimal("149.00") if plan == "Standard" else Decimal("299.00"),
            current_price_currency="DKK",
            stripe_customer_id=f"cus_{tenant_id}",
            stripe_subscription_id=f"sub_stripe_{tenant_id}",
            current_period_end=NOW + timedelta(days=20),
            subscribed_since=created_at,
        )
    transactions = subscription.pop("payment_transactions", None)
    values.update(subscription)
    conn.execute(
        insert(Subscription).values(
            tenant_id=tenant_id, id=subscription_id, created_at=created_at, payment_transactions=[], **values
        )
    )
    if transactions is not None:
        set_payment_transactions(conn, tenant_id, transactions)
    return TenantRef(tenant_id, subscription_id)


def update_subscription(conn: Connection, tenant_id: int, **values: Any) -> None:
    conn.execute(update(Subscription).where(Subscription.tenant_id == tenant_id).values(**values))


def payment_transaction(
    *,
    amount_excluding_tax: str | Decimal = "149.00",
    tax: str | Decimal = "37.25",
    status: str = "Succeeded",
    date: datetime = NOW - timedelta(days=10),
    currency: str = "DKK",
    plan: str | None = "Standard",
    **extra: Any,
) -> dict[str, Any]:
    """A payment_transactions element in the stored shape (docs/rules.md R44)."""
    ex, tax_amount = Decimal(amount_excluding_tax), Decimal(tax)
    total = ex + tax_amount
    element: dict[str, Any] = {
        "Id": ids.prefixed("pymnt", date, _rng),
        "Amount": float(total),
        "AmountExcludingTax": float(ex),
        "TaxAmount": float(tax_amount),
        "InvoiceTotal": float(total),
        "AmountFromCredit": 0,
        "Currency": currency,
        "Status": status,
        "Date": date.isoformat(),
        "FailureReason": None,
        "InvoiceUrl": None,
        "CreditNoteUrl": None,
        "Plan": plan,
        "RefundedAt": None,
        "CreditNotedAt": None,
    }
    element.update(extra)
    return element


def set_payment_transactions(conn: Connection, tenant_id: int, transactions: list[dict[str, Any]]) -> None:
    update_subscription(conn, tenant_id, payment_transactions=json.loads(json.dumps(transactions, default=str)))


def user(
    conn: Connection,
    tenant_id: int,
    *,
    email: str | None = None,
    role: str = "Member",
    first_name: str | None = "Ada",
    last_name: str | None = "Lovelace",
    created_at: datetime = NOW - timedelta(days=90),
    last_seen_at: datetime | None = NOW - timedelta(days=1),
    email_confirmed: bool = True,
    deleted_at: datetime | None = None,
    title: str | None = None,
) -> str:
    user_id = ids.prefixed("usr", created_at, _rng)
    conn.execute(
        insert(User).values(
            tenant_id=tenant_id,
            id=user_id,
            created_at=created_at,
            deleted_at=deleted_at,
            last_seen_at=last_seen_at,
            email=(email or f"{user_id.lower()}@example.com").lower(),
            external_identities=[],
            email_confirmed=email_confirmed,
            first_name=first_name,
            last_name=last_name,
            title=title,
            role=role,
            locale="en-US",
            avatar={"Url": None, "Version": 0, "IsGravatar": False},
        )
    )
    return user_id


def session(
    conn: Connection,
    tenant_id: int,
    user_id: str,
    *,
    created_at: datetime = NOW - timedelta(hours=2),
    modified_at: datetime | None = None,
    revoked_at: datetime | None = None,
    login_method: str = "OneTimePassword",
    user_agent: str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15",
    device_type: str = "Desktop",
    ip_address: str = "192.0.2.10",
) -> str:
    session_id = ids.prefixed("sess", created_at, _rng)
    conn.execute(
        insert(Session).values(
            tenant_id=tenant_id,
            id=session_id,
            user_id=user_id,
            created_at=created_at,
            modified_at=modified_at,
            refresh_token_jti=ids.prefixed("jti", created_at, _rng),
            refresh_token_version=1,
            login_method=login_method,
            device_type=device_type,
            user_agent=user_agent,
            ip_address=ip_address,
            revoked_at=revoked_at,
            revoked_reason="Revoked" if revoked_at else None,
        )
    )
    return session_id


def email_login(
    conn: Connection,
    email: str,
    *,
    created_at: datetime = NOW - timedelta(days=1),
    completed: bool = True,
    retry_count: int = 0,
    type: str = "Login",
) -> str:
    return _login(
        conn,
        EmailLogin,
        "emlog",
        created_at=created_at,
        email=email,
        type=type,
        one_time_password_hash="hash",
        retry_count=retry_count,
        resend_count=0,
        completed=completed,
    )


def external_login(
    conn: Connection,
    email: str | None,
    *,
    created_at: datetime = NOW - timedelta(days=1),
    result: str | None = "Success",
    provider: str = "Google",
    type: str = "Login",
) -> str:
    return _login(
        conn,
        ExternalLogin,
        "exlog",
        created_at=created_at,
        email=email,
        type=type,
        provider_type=provider,
        code_verifier="v",
        nonce="n",
        browser_fingerprint="f",
        login_result=result,
    )


def _login(
    conn: Connection,
    table: type[EmailLogin] | type[ExternalLogin],
    id_prefix: str,
    *,
    created_at: datetime,
    email: str | None,
    **columns: Any,
) -> str:
    """A sign-in attempt row: a time-ordered id, the e-mail lower-cased as
    stored, and the columns of its own table."""
    login_id = ids.prefixed(id_prefix, created_at, _rng)
    stored_email = email.lower() if email else None
    conn.execute(insert(table).values(id=login_id, created_at=created_at, email=stored_email, **columns))
    return login_id


def billing_event(
    conn: Connection,
    tenant: TenantRef,
    event_type: str,
    *,
    occurred_at: datetime,
    new_amount: str | Decimal | None = None,
    previous_amount: str | Decimal | None = None,
    amount_delta: str | Decimal | None = None,
    committed_mrr: str | Decimal | None = None,
    from_plan: str | None = None,
    to_plan: str | None = None,
    currency: str | None = "DKK",
    stripe_event_id: str | None = None,
    **extra: Any,
) -> str:
    """A billing_events row. MRR-moving rows: give previous/new and the delta
    is derived when not given."""
    stripe_event_id = stripe_event_id or f"evt_test_{next(_event_sequence):08d}"
    new = Decimal(new_amount) if new_amount is not None else None
    previous = Decimal(previous_amount) if previous_amount is not None else None
    delta = Decimal(amount_delta) if amount_delta is not None else None
    if delta is None and new is not None and previous is not None:
        delta = new - previous
    committed = Decimal(committed_mrr) if committed_mrr is not None else (new if new is not None else Decimal(0))
    event_id = ids.billing_event_id(tenant.subscription_id, event_type, stripe_event_id, occurred_at)
    conn.execute(
        insert(BillingEvent).values(
            tenant_id=tenant.id,
            id=event_id,
            subscription_id=tenant.subscription_id,
            created_at=occurred_at,
            stripe_event_id=stripe_event_id,
            event_type=event_type,
            from_plan=from_plan,
            to_plan=to_plan,
            previous_amount=previous,
            new_amount=new,
            amount_delta=delta,
            committed_mrr=committed,
            currency=currency,
            occurred_at=occurred_at,
            **extra,
        )
    )
    return event_id


def stripe_event(
    conn: Connection,
    payload: dict[str, Any],
    *,
    status: str = "Pending",
    customer_id: str | None = None,
    received_at: datetime = NOW,
) -> str:
    """A stored Stripe event (inbox/archive row) from a Stripe-shaped payload."""
    created = datetime.fromtimestamp(payload["created"], UTC)
    conn.execute(
        insert(StripeEvent).values(
            id=payload["id"],
            created_at=received_at,
            event_type=payload["type"],
            status=status,
            stripe_customer_id=customer_id,
            payload=payload,
            api_version=payload.get("api_version"),
            stripe_created_at=created,
        )
    )
    return payload["id"]


def original_seed_tenant(conn: Connection, *, now: datetime = NOW) -> TenantRef:
    """The seed tenant the dashboard tests start with ("Tenant1"): Basis,
    Active, empty name, created now; an Owner and a Member (confirmed, never
    seen), one live session each created now; a Basis subscription with no
    transactions, no Stripe customer and no price."""
    seeded = tenant(conn, name="", plan="Basis", created_at=now)
    for email, role in (("owner@tenant-1.com", "Owner"), ("member1@tenant-1.com", "Member")):
        user_id = user(conn, seeded.id, email=email, role=role, created_at=now, last_seen_at=None)
        session(conn, seeded.id, user_id, created_at=now)
    return seeded


def restart_ids(seed: int = 42) -> None:
    """Start the id generators over, so rows built next get the same ids in
    every run whatever was built before (snapshots that show ids)."""
    global _rng, _tenant_sequence, _event_sequence
    _rng = random.Random(seed)
    _tenant_sequence = itertools.count(1)
    _event_sequence = itertools.count(1)
