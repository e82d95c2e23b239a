"""Fixed rows for the console tests: a small platform as of factories.NOW.

Every displayed value is fixed (names, amounts, times), and no two rows share
a timestamp, so orderings never depend on generated ids.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine

from tests import factories as f
from tests.factories import NOW

STANDARD, PREMIUM = "149.00", "299.00"


def _paid(conn: Connection, name: str, plan: str, days_ago: int, **subscription: object) -> f.TenantRef:
    price = STANDARD if plan == "Standard" else PREMIUM
    created = NOW - timedelta(days=days_ago, hours=3)
    payments = [
        f.payment_transaction(
            amount_excluding_tax=price,
            tax="37.25" if plan == "Standard" else "74.75",
            date=created + timedelta(days=30 * month, hours=1),
            plan=plan,
        )
        for month in range(days_ago // 30 + 1)
    ]
    return f.tenant(conn, name=name, plan=plan, created_at=created, payment_transactions=payments, **subscription)


def _owner(
    conn: Connection, tenant: f.TenantRef, first: str, last: str, *, seen_days_ago: int, created_days_ago: int
) -> str:
    email = f"{first.lower()}@{last.lower()}.example"
    f.user(
        conn,
        tenant.id,
        email=email,
        role="Owner",
        first_name=first,
        last_name=last,
        created_at=NOW - timedelta(days=created_days_ago),
        last_seen_at=NOW - timedelta(days=seen_days_ago, minutes=7),
    )
    return email


def seed_platform(conn: Connection) -> None:
    """Five paying accounts, a trial, a canceled one; logins, sessions, billing
    events; one account with drift and no billing events (so all three banners show)."""
    nordlys = _paid(conn, "Nordlys ApS", "Premium", 200)
    fjord = _paid(conn, "Fjordhus A/S", "Standard", 45)
    skovly = _paid(conn, "Skovly IVS", "Standard", 10)
    birk = _paid(conn, "Birk & Co", "Premium", 21, cancel_at_period_end=True)
    solstrand = _paid(conn, "Solstrand", "Standard", 5, has_drift_detected=True)
    trial = f.tenant(conn, name="Havblik Studio", plan="Basis", created_at=NOW - timedelta(days=3, hours=5))
    canceled = f.tenant(
        conn,
        name="Klint Lab",
        plan="Basis",
        created_at=NOW - timedelta(days=120),
        payment_transactions=[f.payment_transaction(date=NOW - timedelta(days=90), plan="Standard")],
    )
    for tenant, price, days_ago in (
        (nordlys, PREMIUM, 200),
        (fjord, STANDARD, 45),
        (skovly, STANDARD, 10),
        (birk, PREMIUM, 21),
    ):
        f.billing_event(
            conn,
            tenant,
            "SubscriptionCreated",
            occurred_at=NOW - timedelta(days=days_ago, hours=2),
            previous_amount="0",
            new_amount=price,
            to_plan="Premium" if price == PREMIUM else "Standard",
        )
    f.billing_event(
        conn,
        birk,
        "SubscriptionCancelled",
        occurred_at=NOW - timedelta(days=2, hours=4),
        previous_amount=PREMIUM,
        new_amount="0",
        from_plan="Premium",
        to_plan="Basis",
    )
    f.billing_event(
        conn,
        canceled,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=119),
        previous_amount="0",
        new_amount=STANDARD,
        to_plan="Standard",
    )
    f.billing_event(
        conn,
        canceled,
        "SubscriptionImmediatelyCancelled",
        occurred_at=NOW - timedelta(days=60),
        previous_amount=STANDARD,
        new_amount="0",
        from_plan="Standard",
        to_plan="Basis",
    )
    people = (
        (nordlys, "Astrid", "Holm", 1, 190),
        (fjord, "Bjarke", "Lund", 2, 40),
        (skovly, "Cecilie", "Dahl", 0, 9),
        (birk, "Dorte", "Birk", 12, 19),
        (solstrand, "Emil", "Strand", 40, 4),
        (trial, "Freja", "Vang", 3, 2),
        (canceled, "Gustav", "Klint", 70, 110),
    )
    for index, (tenant, first, last, seen, created) in enumerate(people):
        email = _owner(conn, tenant, first, last, seen_days_ago=seen, created_days_ago=created)
        f.email_login(conn, email, created_at=NOW - timedelta(hours=3 + index * 13))
        f.email_login(conn, email, created_at=NOW - timedelta(days=8, hours=index), completed=index % 3 != 0)
        if index % 2 == 0:
            f.external_login(conn, email, created_at=NOW - timedelta(days=1, hours=5 + index))
    sessions_for = ((nordlys, "astrid@holm.example"), (skovly, "cecilie@dahl.example"))
    for hours, (tenant, _email) in enumerate(sessions_for, start=2):
        user_id = f.user(
            conn,
            tenant.id,
            email=f"member{hours}@example.com",
            first_name="Member",
            last_name=str(hours),
            created_at=NOW - timedelta(days=30),
            last_seen_at=NOW - timedelta(hours=hours),
        )
        f.session(conn, tenant.id, user_id, created_at=NOW - timedelta(hours=hours))


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        seed_platform(conn)


def clear_data_quality_issues(engine: Engine) -> None:
    """Fix what the banners complain about: no drift, every paid account synced."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE subscriptions SET has_drift_detected = false"))
        solstrand = conn.execute(
            text(
                "SELECT t.id, s.id AS sub FROM tenants t JOIN subscriptions s ON s.tenant_id = t.id WHERE t.name = 'Solstrand'"
            )
        ).one()
        f.billing_event(
            conn,
            f.TenantRef(solstrand.id, solstrand.sub),
            "SubscriptionCreated",
            occurred_at=NOW - timedelta(days=5, hours=2),
            previous_amount="0",
            new_amount=STANDARD,
            to_plan="Standard",
        )
