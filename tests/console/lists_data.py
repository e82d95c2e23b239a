"""Fixed rows for the list and detail screens' tests, as of factories.NOW.

Seven accounts, one per status and situation the screens draw differently:
paying (with a refund and a credit note), downgrading, canceling, drift,
suspended, trial, canceled. One person (Astrid) belongs to two accounts, has
sign-ins of every outcome and a revoked session. Ids are fixed too
(factories.restart_ids), because the detail screens show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine

from tests import factories as f
from tests.factories import NOW

BILLING_INFO = {
    "Name": "Nordlys ApS",
    "Address": {
        "Line1": "Vestergade 12",
        "Line2": "2. sal",
        "PostalCode": "1456",
        "City": "København K",
        "State": None,
        "Country": "DK",
    },
    "Email": "billing@nordlys.example",
    "TaxId": "DK12345678",
}
VISA = {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2027}
DRIFT = [
    {
        "Kind": "MissingEvent",
        "Description": "Stripe invoice.paid of 2026-05-01 has no billing event",
        "Severity": "Critical",
    },
    {"Kind": "FieldDisagree", "Description": "current price 149.00 here, 179.00 in Stripe", "Severity": "Warning"},
]


@dataclass(frozen=True)
class Platform:
    nordlys: f.TenantRef
    fjordhus: f.TenantRef
    birk: f.TenantRef
    solstrand: f.TenantRef
    skovly: f.TenantRef
    havblik: f.TenantRef
    klint: f.TenantRef
    astrid: str  # Astrid Holm's users row in Nordlys
    astrid_in_skovly: str


def _address(name: str, country: str) -> dict[str, object]:
    return {**BILLING_INFO, "Name": name, "Address": {**BILLING_INFO["Address"], "Country": country}}  # type: ignore[dict-item]


# The newest Nordlys transaction's Stripe invoice (docs/rules.md R120); the
# older ones were stored before the sync kept Stripe's invoice id.
NORDLYS_STRIPE_INVOICE = "in_1QNordlys00000000000000A"


def _monthly(plan: str, first: timedelta, months: int, **last: object) -> list[dict[str, object]]:
    """Monthly payments from `first` ago; keyword arguments change the newest."""
    price, tax = ("299.00", "74.75") if plan == "Premium" else ("149.00", "37.25")
    payments = [
        f.payment_transaction(
            amount_excluding_tax=price,
            tax=tax,
            plan=plan,
            date=NOW - first + timedelta(days=30 * month),
            InvoiceUrl=f"https://pay.stripe.test/invoice/in_{plan.lower()}_{month}/pdf",
        )
        for month in range(months)
    ]
    payments[-1].update(last)
    return payments


def seed_platform(conn: Connection) -> Platform:
    f.restart_ids()
    nordlys = f.tenant(
        conn,
        name="Nordlys ApS",
        plan="Premium",
        created_at=NOW - timedelta(days=200),
        billing_info=BILLING_INFO,
        payment_method=VISA,
        payment_transactions=[
            *_monthly("Premium", timedelta(days=199), 6),
            f.payment_transaction(
                amount_excluding_tax="299.00",
                tax="74.75",
                plan="Premium",
                status="Refunded",
                date=NOW - timedelta(days=12),
                RefundedAt=(NOW - timedelta(days=10)).isoformat(),
            ),
            f.payment_transaction(
                amount_excluding_tax="299.00",
                tax="74.75",
                plan="Premium",
                date=NOW - timedelta(days=5),
                CreditNoteUrl="https://pay.stripe.test/credit_note/cn_1/pdf",
                CreditNotedAt=(NOW - timedelta(days=2)).isoformat(),
                StripeInvoiceId=NORDLYS_STRIPE_INVOICE,
            ),
        ],
    )
    fjordhus = f.tenant(
        conn,
        name="Fjordhus A/S",
        plan="Premium",
        created_at=NOW - timedelta(days=95),
        scheduled_plan="Standard",
        scheduled_price_amount="149.00",
        billing_info=_address("Fjordhus A/S", "NO"),
        payment_transactions=_monthly("Premium", timedelta(days=94), 4),
    )
    birk = f.tenant(
        conn,
        name="Birk & Co",
        plan="Premium",
        created_at=NOW - timedelta(days=40),
        cancel_at_period_end=True,
        billing_info=_address("Birk & Co", "SE"),
        payment_transactions=_monthly("Premium", timedelta(days=39), 2),
    )
    solstrand = f.tenant(
        conn,
        name="Solstrand",
        plan="Standard",
        created_at=NOW - timedelta(days=25),
        has_drift_detected=True,
        drift_checked_at=NOW - timedelta(hours=5),
        drift_discrepancies=DRIFT,
        payment_transactions=_monthly("Standard", timedelta(days=24), 1),
    )
    skovly = f.tenant(
        conn,
        name="Skovly IVS",
        plan="Standard",
        state="Suspended",
        created_at=NOW - timedelta(days=70),
        payment_transactions=[
            *_monthly("Standard", timedelta(days=68), 2),
            f.payment_transaction(status="Failed", date=NOW - timedelta(days=8), FailureReason="card_declined"),
        ],
    )
    havblik = f.tenant(conn, name="Havblik Studio", plan="Basis", created_at=NOW - timedelta(days=3, hours=5))
    klint = f.tenant(
        conn,
        name="Klint Lab",
        plan="Basis",
        created_at=NOW - timedelta(days=150),
        payment_transactions=[f.payment_transaction(date=NOW - timedelta(days=120))],
    )

    for tenant, days, plan in (
        (nordlys, 200, "Premium"),
        (fjordhus, 95, "Premium"),
        (birk, 40, "Premium"),
        (skovly, 70, "Standard"),
    ):
        price = "299.00" if plan == "Premium" else "149.00"
        f.billing_event(
            conn,
            tenant,
            "SubscriptionCreated",
            occurred_at=NOW - timedelta(days=days, minutes=-5),
            previous_amount="0",
            new_amount=price,
            to_plan=plan,
        )
    f.billing_event(
        conn,
        nordlys,
        "SubscriptionRenewed",
        occurred_at=NOW - timedelta(days=20, hours=1),
        committed_mrr="299.00",
        to_plan="Premium",
    )
    f.billing_event(
        conn,
        nordlys,
        "PaymentRefunded",
        occurred_at=NOW - timedelta(days=10, hours=2),
        committed_mrr="299.00",
        to_plan="Premium",
    )
    f.billing_event(
        conn,
        fjordhus,
        "SubscriptionDowngradeScheduled",
        occurred_at=NOW - timedelta(days=6, hours=3),
        previous_amount="299.00",
        new_amount="149.00",
        from_plan="Premium",
        to_plan="Standard",
    )
    f.billing_event(
        conn,
        birk,
        "SubscriptionCancelled",
        occurred_at=NOW - timedelta(days=2, hours=4),
        previous_amount="299.00",
        new_amount="0",
        from_plan="Premium",
        to_plan="Premium",
    )
    f.billing_event(
        conn,
        skovly,
        "PaymentFailed",
        occurred_at=NOW - timedelta(days=8, hours=1),
        committed_mrr="149.00",
    )
    f.billing_event(
        conn,
        skovly,
        "SubscriptionSuspended",
        occurred_at=NOW - timedelta(days=1, hours=6),
        previous_amount="149.00",
        new_amount="0",
        from_plan="Standard",
        to_plan="Basis",
    )
    f.billing_event(
        conn,
        klint,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=149),
        previous_amount="0",
        new_amount="149.00",
        to_plan="Standard",
    )
    f.billing_event(
        conn,
        klint,
        "SubscriptionImmediatelyCancelled",
        occurred_at=NOW - timedelta(days=60),
        previous_amount="149.00",
        new_amount="0",
        from_plan="Standard",
        to_plan="Basis",
    )

    astrid = f.user(
        conn,
        nordlys.id,
        email="astrid@holm.example",
        role="Owner",
        first_name="Astrid",
        last_name="Holm",
        title="CEO",
        created_at=NOW - timedelta(days=199),
        last_seen_at=NOW - timedelta(hours=2, minutes=10),
    )
    astrid_in_skovly = f.user(
        conn,
        skovly.id,
        email="astrid@holm.example",
        role="Member",
        first_name="Astrid",
        last_name="Holm",
        created_at=NOW - timedelta(days=60),
        last_seen_at=NOW - timedelta(days=9),
    )
    people = (
        (nordlys, "bo@nordlys.example", "Admin", "Bo", "Krag", 1, True),
        (nordlys, "carla@nordlys.example", "Member", "Carla", "Nyhavn", 45, True),
        (nordlys, "invited@nordlys.example", "Member", None, None, None, False),
        (fjordhus, "dag@fjordhus.example", "Owner", "Dag", "Fjeld", 3, True),
        (birk, "eva@birk.example", "Owner", "Eva", "Birk", 12, True),
        (solstrand, "finn@solstrand.example", "Owner", "Finn", "Strand", 40, True),
        (skovly, "gry@skovly.example", "Owner", "Gry", "Skov", 20, True),
        (havblik, "hanne@havblik.example", "Owner", "Hanne", "Vang", 0, True),
        (klint, "ib@klint.example", "Owner", "Ib", "Klint", 70, True),
    )
    for index, (tenant, email, role, first, last, seen, confirmed) in enumerate(people):
        f.user(
            conn,
            tenant.id,
            email=email,
            role=role,
            first_name=first,
            last_name=last,
            created_at=NOW - timedelta(days=100 - index),
            email_confirmed=confirmed,
            last_seen_at=NOW - timedelta(days=seen, hours=index) if seen is not None else None,
        )

    # Astrid's sign-ins: every outcome, and the sessions they opened.
    f.email_login(conn, "astrid@holm.example", created_at=NOW - timedelta(hours=2, minutes=12))
    f.session(conn, nordlys.id, astrid, created_at=NOW - timedelta(hours=2, minutes=11), ip_address="192.0.2.10")
    f.email_login(conn, "astrid@holm.example", created_at=NOW - timedelta(days=3), completed=False, retry_count=3)
    f.email_login(conn, "astrid@holm.example", created_at=NOW - timedelta(days=4), completed=False)
    f.external_login(conn, "astrid@holm.example", created_at=NOW - timedelta(days=5), result="IdentityProviderError")
    f.external_login(conn, "astrid@holm.example", created_at=NOW - timedelta(days=9))
    f.session(
        conn,
        skovly.id,
        astrid_in_skovly,
        created_at=NOW - timedelta(days=9, minutes=-1),
        login_method="Google",
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        ip_address="198.51.100.7",
        revoked_at=NOW - timedelta(days=7),
    )
    # Never revoked, but past its 90-day lifetime: Expired, not Active (R91).
    f.session(conn, nordlys.id, astrid, created_at=NOW - timedelta(days=120), ip_address="192.0.2.10")
    f.email_login(conn, "bo@nordlys.example", created_at=NOW - timedelta(days=1, hours=1))
    return Platform(nordlys, fjordhus, birk, solstrand, skovly, havblik, klint, astrid, astrid_in_skovly)


def seed(engine: Engine) -> Platform:
    with engine.begin() as conn:
        return seed_platform(conn)
