"""A tenant, its subscription and its billing trail: the Stripe events the
webhook stored, the billing events the replayer made of them, and, for a few
tenants, the data-quality problems the banners exist for (drift found by the
drift check, paid subscriptions never synced)."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from types import SimpleNamespace
from typing import Any

from core import ids
from db.enums import StripeEventStatus, SubscriptionPlan
from demo import accounts
from demo import stripe_objects as so
from demo.accounts import DomainRegistry, Person, TenantProfile
from demo.billing_story import BillingStory, StoredEvent
from demo.bulk import NULL, Batch, field, json_text, text_value
from stripe_sync import drift
from stripe_sync.catalog import PriceCatalog
from stripe_sync.drift import ReplayFindings, StateSnapshot
from stripe_sync.processing import RECOVERY_SOURCE
from stripe_sync.replayer import SUPPORTED_API_VERSIONS, replay

HISTORY_DAYS = 400  # how long the demo platform has operated, by default
SIGNUP_GROWTH = 0.85  # age = window × (1 − u^growth): below 1, sign-ups grow over time
SPECIAL_MIN_AGE = timedelta(days=60)  # drift and unsynced tenants have paid for a while
P_DELETED = 0.03  # of tenants without a live Stripe subscription
DRIFT_OPERATOR = "maria.holm"

TENANT_COLUMNS = (
    "id",
    "created_at",
    "modified_at",
    "deleted_at",
    "name",
    "state",
    "plan",
    "suspension_reason",
    "suspended_at",
    "logo",
)
SUBSCRIPTION_COLUMNS = (
    "tenant_id",
    "id",
    "created_at",
    "modified_at",
    "plan",
    "scheduled_plan",
    "stripe_customer_id",
    "stripe_subscription_id",
    "current_price_amount",
    "current_price_currency",
    "current_period_end",
    "cancel_at_period_end",
    "first_payment_failed_at",
    "cancellation_reason",
    "cancellation_feedback",
    "payment_transactions",
    "payment_method",
    "billing_info",
    "subscribed_since",
    "last_synced_stripe_event_created_at",
    "scheduled_price_amount",
    "has_drift_detected",
    "drift_checked_at",
    "drift_discrepancies",
)
STRIPE_EVENT_COLUMNS = (
    "tenant_id",
    "id",
    "created_at",
    "event_type",
    "status",
    "processed_at",
    "stripe_customer_id",
    "stripe_subscription_id",
    "payload",
    "api_version",
    "recovered_at",
    "recovery_source",
    "payload_hash",
    "stripe_created_at",
)
BILLING_EVENT_COLUMNS = (
    "tenant_id",
    "id",
    "subscription_id",
    "created_at",
    "stripe_event_id",
    "event_type",
    "from_plan",
    "to_plan",
    "previous_amount",
    "new_amount",
    "amount_delta",
    "committed_mrr",
    "currency",
    "occurred_at",
    "cancellation_reason",
    "suspension_reason",
    "days_on_previous_plan",
    "days_until_effective",
    "days_since_cancelled",
    "scheduled_for",
    "effective_at",
    "stripe_reference",
)
DRIFT_CHECK_COLUMNS = (
    "tenant_id",
    "subscription_id",
    "checked_at",
    "has_drift_detected",
    "discrepancies",
    "acknowledged_at",
    "acknowledged_by",
)


class Role(Enum):
    """What a tenant is in the demo, beyond its ordinary billing story."""

    regular = "regular"
    drift = "drift"  # the drift check found discrepancies, not yet acknowledged
    acknowledged_drift = "acknowledged_drift"  # found earlier, acknowledged by an operator
    unsynced = "unsynced"  # a paying subscription never synced with Stripe


class DriftKind(Enum):
    unclassified = "unclassified"  # plan change and cancellation in one Stripe update
    price_mismatch = "price_mismatch"  # Stripe bills another price than stored
    scheduled_price_missing = "scheduled_price_missing"  # downgrade queued without its price
    clamped = "clamped"  # an invoice whose tax exceeded what was paid
    cancel_flag_mismatch = "cancel_flag_mismatch"  # cancelled in Stripe, the webhook never came


DRIFT_KINDS = tuple(DriftKind)
# Acknowledged findings are the harmless kinds: they leave the MRR figures in agreement.
ACKNOWLEDGED_KINDS = (DriftKind.price_mismatch, DriftKind.clamped, DriftKind.cancel_flag_mismatch)


@dataclass(frozen=True, slots=True)
class TenantPlan:
    index: int
    seed: int
    created_at: datetime
    role: Role = Role.regular
    drift_kind: DriftKind | None = None


def signup_instant(rng: random.Random, now: datetime, history_days: int = HISTORY_DAYS) -> datetime:
    """Sign-ups over the platform's history, growing: more tenants recently."""
    return now - timedelta(days=history_days * (1 - rng.random() ** SIGNUP_GROWTH))


def company(rng: random.Random) -> tuple[accounts.Country, str, str, str]:
    """A tenant's first draws: country, legal name, domain base and top-level domain."""
    country = accounts.choose_country(rng)
    name, base = accounts.company_name(rng, country)
    return country, name, base, rng.choice(country.tlds)


def claim_domain(plan: TenantPlan, domains: DomainRegistry) -> None:
    """Claim the domain the tenant will claim in `make_profile`, drawing
    only what comes before it (the parallel build claims them in order)."""
    _country, _name, base, tld = company(random.Random(plan.seed))
    domains.claim(base, tld)


def make_profile(rng: random.Random, plan: TenantPlan, domains: DomainRegistry) -> TenantProfile:
    created = plan.created_at
    country, name, base, tld = company(rng)
    domain = domains.claim(base, tld)
    first, last = accounts.person_name(rng, country)
    local = accounts.email_local_part(first, last, rng.choices((0, 1, 2), cum_weights=(70, 90, 100))[0])
    return TenantProfile(
        index=plan.index,
        seed=plan.seed,
        id=ids.tenant_id(created, plan.index & 0xFFF, (plan.index >> 12) & 0x3FF),
        created_at=created,
        name=name,
        domain=domain,
        country=country,
        owner=Person(first, last, f"{local}@{domain}"),
    )


def generate(
    rng: random.Random,
    plan: TenantPlan,
    now: datetime,
    catalog: PriceCatalog,
    domains: DomainRegistry,
    batch: Batch,
) -> TenantProfile:
    """Write one tenant's rows into the batch; return what the people phase needs."""
    profile = make_profile(rng, plan, domains)
    story = BillingStory(rng, profile, catalog, now, stays_paid=plan.role is not Role.regular)
    story.play()
    subscription_id = ids.prefixed("sub", profile.created_at, rng)
    drift_kind = _stage_drift(rng, story, plan.drift_kind, now) if plan.drift_kind is not None else None

    # An unsynced subscription has its Stripe history, but none of it reached us.
    synced = plan.role is not Role.unsynced
    events = story.events if synced else []
    replayed = replay(
        [event.payload for event in events],
        tenant_id=profile.id,
        subscription_id=subscription_id,
        catalog=catalog,
        currency_override=so.CURRENCY,
        live_plan=story.plan or SubscriptionPlan.Basis,
        live_cancellation_reason=story.cancellation_reason,
        supported_api_versions=SUPPORTED_API_VERSIONS,
    )
    processed_at = {event.id: event.processed_at for event in events}
    for row in replayed.rows:
        values = row.as_row(processed_at[row.stripe_event_id])
        batch.add_row("billing_events", (values[column] for column in BILLING_EVENT_COLUMNS))
    for event in events:
        _stripe_event_row(batch, profile, story, event)

    transactions = story.payment_transactions()
    subscribed_since = min(
        (row.occurred_at for row in replayed.rows if row.event_type == "SubscriptionCreated"), default=None
    )
    row = _subscription_row(
        story, subscription_id, transactions, subscribed_since, replayed.max_created if synced else None
    )
    if drift_kind is not None:
        _record_drift(
            rng,
            batch,
            plan.role,
            drift_kind,
            profile.id,
            row,
            transactions,
            len(replayed.rows),
            replayed.has_unclassified_event,
            now,
        )
    batch.add_row("subscriptions", (row[column] for column in SUBSCRIPTION_COLUMNS))

    if not story.is_paying and rng.random() < P_DELETED:
        quiet_since = max(story.clock, profile.created_at) + timedelta(days=1)
        if quiet_since < now - timedelta(days=1):
            profile.deleted_at = quiet_since + (now - quiet_since) * rng.uniform(0.1, 0.95)
    batch.add_row("tenants", _tenant_values(rng, profile, story))
    return profile


def _tenant_values(rng: random.Random, profile: TenantProfile, story: BillingStory) -> tuple[Any, ...]:
    named_at = profile.created_at + timedelta(seconds=rng.uniform(30, 300))
    modified = max(named_at, story.plan_changed_at or named_at, story.suspended_at or named_at)
    if profile.deleted_at is not None:
        modified = profile.deleted_at
    logo = (
        {"Url": f"https://cdn.backoffice.example/logos/{profile.id}/1.png", "Version": 1}
        if rng.random() < 0.2
        else {"Url": None, "Version": 0}
    )
    return (
        profile.id,
        profile.created_at,
        modified,
        profile.deleted_at,
        profile.name,
        story.tenant_state.value,
        story.plan.value if story.is_paying else SubscriptionPlan.Basis.value,
        story.suspension_reason.value if story.suspension_reason else None,
        story.suspended_at,
        logo,
    )


def _subscription_row(
    story: BillingStory,
    subscription_id: str,
    transactions: list[dict[str, Any]],
    subscribed_since: datetime | None,
    anchor: datetime | None,
) -> dict[str, Any]:
    """The subscription as the last sync left it (docs/rules.md R61-R64)."""
    paying = story.is_paying
    plan = story.plan if paying else SubscriptionPlan.Basis
    price = story.catalog.price_of(plan) if paying else None
    scheduled_price = story.catalog.price_of(story.scheduled_plan) if story.scheduled_plan else None
    last_change = story.events[-1].processed_at if story.events else None
    return {
        "tenant_id": story.profile.id,
        "id": subscription_id,
        "created_at": story.profile.created_at,
        "modified_at": last_change,
        "plan": plan.value,
        "scheduled_plan": story.scheduled_plan.value if story.scheduled_plan else None,
        "stripe_customer_id": story.customer_id,
        "stripe_subscription_id": story.sub_id,
        "current_price_amount": price,
        "current_price_currency": so.CURRENCY if paying else None,
        "current_period_end": story.period_end if paying else story.period_end_kept,
        "cancel_at_period_end": story.cancel_at_period_end,
        "first_payment_failed_at": story.first_payment_failed_at,
        "cancellation_reason": story.cancellation_reason,
        "cancellation_feedback": story.feedback[1] if story.cancel_at_period_end else None,
        "payment_transactions": transactions,
        "payment_method": story.payment_method_json(),
        "billing_info": story.billing_info_json(),
        "subscribed_since": subscribed_since,
        "last_synced_stripe_event_created_at": anchor,
        "scheduled_price_amount": scheduled_price,
        "has_drift_detected": False,
        "drift_checked_at": None,
        "drift_discrepancies": [],
    }


def _stripe_event_row(batch: Batch, profile: TenantProfile, story: BillingStory, event: StoredEvent) -> None:
    """The archive row, as the webhook (or the events-list recovery) stored it."""
    raw = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    recovered = event.recovered
    batch.add(
        "stripe_events",
        "\t".join(
            (
                NULL if recovered else str(profile.id),
                event.id,
                event.received_at.isoformat(),
                event.type,
                StripeEventStatus.Processed.value,
                event.processed_at.isoformat(),
                story.customer_id,
                field(None if recovered else event.stripe_subscription_id),
                text_value(raw),
                so.API_VERSION,
                event.processed_at.isoformat() if recovered else NULL,
                RECOVERY_SOURCE if recovered else NULL,
                hashlib.sha256(raw.encode("utf-8")).hexdigest(),
                event.created.isoformat(),
            )
        )
        + "\n",
    )


def ignored_events(rng: random.Random, now: datetime, batch: Batch, history_days: int = HISTORY_DAYS) -> None:
    """Account-level events without a customer (weekly payouts): stored and
    Ignored, as the webhook does with them."""
    day = now - timedelta(days=history_days)
    while day < now - timedelta(days=1):
        for event_type, prefix in (("payout.created", "po"), ("payout.paid", "po")):
            created = day + timedelta(hours=rng.uniform(1, 20))
            payload = so.event(
                so.stripe_id(rng, "evt"),
                event_type,
                so.ts(created),
                {
                    "id": so.stripe_id(rng, prefix),
                    "object": "payout",
                    "amount": rng.randrange(500_00, 90_000_00),
                    "arrival_date": so.ts(created + timedelta(days=2)),
                    "currency": "dkk",
                    "method": "standard",
                    "status": "paid" if event_type == "payout.paid" else "pending",
                },
            )
            raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            received = created.replace(microsecond=0) + timedelta(seconds=rng.uniform(0.3, 2))
            batch.add_row(
                "stripe_events",
                (
                    None,
                    payload["id"],
                    received,
                    event_type,
                    StripeEventStatus.Ignored.value,
                    received,
                    None,
                    None,
                    raw,
                    so.API_VERSION,
                    None,
                    None,
                    hashlib.sha256(raw.encode("utf-8")).hexdigest(),
                    created.replace(microsecond=0),
                ),
            )
        day += timedelta(days=7)


# -- drift ------------------------------------------------------------------------


def _stage_drift(rng: random.Random, story: BillingStory, kind: DriftKind, now: datetime) -> DriftKind:
    """Play the last weeks of a drift tenant's story so the finding is true.
    Without room left in the current period, the finding is one that needs no story."""
    earliest = max(
        story.clock + timedelta(minutes=10), story.period_start + timedelta(hours=2), now - timedelta(days=20)
    )
    latest = min(story.horizon, story.period_end - timedelta(hours=1))
    if kind in (DriftKind.price_mismatch, DriftKind.cancel_flag_mismatch):
        return kind
    if latest - earliest < timedelta(hours=2):
        return DriftKind.price_mismatch
    first, second = sorted(earliest + (latest - earliest) * rng.uniform(0.05, 0.95) for _ in range(2))
    if kind is DriftKind.unclassified:
        story.change_plan_and_cancel(first)
    elif kind is DriftKind.scheduled_price_missing:
        if story.plan is SubscriptionPlan.Standard:
            story.upgrade(first)
        story.schedule_downgrade(second)
    elif kind is DriftKind.clamped:
        story.misbilled_invoice(first)
    return kind


def _record_drift(
    rng: random.Random,
    batch: Batch,
    role: Role,
    kind: DriftKind,
    tenant_id: int,
    row: dict[str, Any],
    transactions: list[dict[str, Any]],
    billing_event_count: int,
    has_unclassified_event: bool,
    now: datetime,
) -> None:
    """What the drift check found, through the pipeline's own detector."""
    if kind is DriftKind.scheduled_price_missing:
        row["scheduled_price_amount"] = None  # the catalog had no price for the target when it was healed
    local = StateSnapshot.of_subscription(SimpleNamespace(**row))
    stripe = StateSnapshot(local.plan, local.cancel_at_period_end, local.price, local.currency)
    if kind is DriftKind.price_mismatch and local.price is not None:
        stripe = StateSnapshot(local.plan, local.cancel_at_period_end, local.price + Decimal("20.00"), local.currency)
    elif kind is DriftKind.cancel_flag_mismatch:
        stripe = StateSnapshot(local.plan, True, local.price, local.currency)
    discrepancies = drift.detect(
        local,
        stripe,
        transaction_count=len(transactions),
        billing_event_count=billing_event_count,
        findings=ReplayFindings(has_unclassified_event=has_unclassified_event),
        transactions=transactions,
    )
    if not discrepancies:
        return
    found = [d.to_json() for d in discrepancies]
    acknowledged_at = None
    if role is Role.acknowledged_drift:
        checked_at = now - timedelta(days=rng.uniform(2, 25))
        acknowledged_at = checked_at + timedelta(hours=rng.uniform(1, 30))
    else:
        checked_at = now - timedelta(hours=rng.uniform(1, 22))  # the daily drift check
    # Acknowledging clears the flag and stamps the check time; the findings stay.
    row["has_drift_detected"] = acknowledged_at is None
    row["drift_checked_at"] = acknowledged_at or checked_at
    row["drift_discrepancies"] = found
    batch.add(
        "billing_drift_checks",
        "\t".join(
            (
                str(tenant_id),
                row["id"],
                checked_at.isoformat(),
                "t",
                json_text(found),
                acknowledged_at.isoformat() if acknowledged_at else NULL,
                DRIFT_OPERATOR if acknowledged_at else NULL,
            )
        )
        + "\n",
    )
