"""Drift between the local subscription, its ledger and Stripe (docs/rules.md R51-R56).

`detect` is pure: two state snapshots, two counts, this pass's replay findings
and the stored payment transactions in; discrepancies out, in the order and
with the severities of docs/rules.md R52. `record` stores the latest result on
the subscription and keeps the history in billing_drift_checks (docs/rules.md R53: findings are kept,
not overwritten). `acknowledge_drift` clears the flag only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from core.audit import Action, Actor
from core.errors import Forbidden, NotFound, OperatorError
from db.engine import is_admin
from db.enums import DriftDiscrepancyKind as Kind
from db.enums import DriftSeverity as Severity
from db.enums import SubscriptionPlan
from db.models import Subscription

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class StateSnapshot:
    """What drift compares: the local subscription or Stripe's view of it."""

    plan: SubscriptionPlan
    cancel_at_period_end: bool
    price: Decimal | None
    currency: str | None
    scheduled_plan: SubscriptionPlan | None = None
    scheduled_price: Decimal | None = None

    @classmethod
    def of_subscription(cls, row: Any) -> StateSnapshot:
        """From a subscriptions row (ORM object or Row with the same names)."""
        return cls(
            plan=SubscriptionPlan(row.plan),
            cancel_at_period_end=bool(row.cancel_at_period_end),
            price=row.current_price_amount,
            currency=row.current_price_currency,
            scheduled_plan=SubscriptionPlan(row.scheduled_plan) if row.scheduled_plan else None,
            scheduled_price=row.scheduled_price_amount,
        )


NO_STRIPE_SUBSCRIPTION = StateSnapshot(SubscriptionPlan.Basis, False, None, None)


@dataclass(frozen=True)
class StaleRow:
    event_type: str
    occurred_at: datetime


@dataclass(frozen=True)
class ReplayFindings:
    """What one processing pass learned while replaying."""

    has_unclassified_event: bool = False
    unsupported_api_versions: tuple[str, ...] = ()
    stale_rows: tuple[StaleRow, ...] = ()


@dataclass(frozen=True)
class Discrepancy:
    kind: Kind
    description: str
    severity: Severity
    expected_event_type: str | None = None
    expected_value: str | None = None
    actual_value: str | None = None
    occurred_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored shape (docs/rules.md R53): PascalCase, nulls written out."""
        return {
            "Kind": self.kind.value,
            "Description": self.description,
            "Severity": self.severity.value,
            "ExpectedEventType": self.expected_event_type,
            "ExpectedValue": self.expected_value,
            "ActualValue": self.actual_value,
            "OccurredAt": self.occurred_at.isoformat() if self.occurred_at else None,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Discrepancy:
        occurred_at = value.get("OccurredAt")
        return cls(
            kind=Kind(value["Kind"]),
            description=value.get("Description") or "",
            severity=Severity(value["Severity"]),
            expected_event_type=value.get("ExpectedEventType"),
            expected_value=value.get("ExpectedValue"),
            actual_value=value.get("ActualValue"),
            occurred_at=datetime.fromisoformat(occurred_at) if occurred_at else None,
        )


def detect(
    local: StateSnapshot,
    stripe: StateSnapshot,
    *,
    transaction_count: int,
    billing_event_count: int,
    findings: ReplayFindings = ReplayFindings(),
    transactions: Iterable[Mapping[str, Any]] = (),
) -> list[Discrepancy]:
    """Every discrepancy, in the order of docs/rules.md R52."""
    found: list[Discrepancy] = []
    if transaction_count > 0 and billing_event_count == 0:
        found.append(
            Discrepancy(
                Kind.MissingEvent,
                f"The subscription has {transaction_count} payment transaction(s) but no billing events.",
                Severity.Warning,
                expected_value=str(transaction_count),
                actual_value="0",
            )
        )
    if local.plan != stripe.plan:
        found.append(
            _mismatch(
                "Plan differs between local subscription and Stripe.",
                Severity.Critical,
                stripe.plan.value,
                local.plan.value,
            )
        )
    if local.cancel_at_period_end != stripe.cancel_at_period_end:
        found.append(
            _mismatch(
                "Cancel-at-period-end differs between local subscription and Stripe.",
                Severity.Warning,
                str(stripe.cancel_at_period_end),
                str(local.cancel_at_period_end),
            )
        )
    if local.price != stripe.price:
        found.append(
            _mismatch(
                "Current price amount differs between local subscription and Stripe.",
                Severity.Critical,
                _decimal_text(stripe.price),
                _decimal_text(local.price),
            )
        )
    if local.currency != stripe.currency:
        found.append(
            _mismatch(
                "Currency differs between local subscription and Stripe.",
                Severity.Warning,
                stripe.currency,
                local.currency,
            )
        )
    if local.scheduled_plan is not None and local.scheduled_price is None:
        found.append(
            Discrepancy(
                Kind.ScheduledPriceMissing,
                f"A downgrade to {local.scheduled_plan.value} is scheduled without a scheduled price; "
                "forward MRR falls back to the current price.",
                Severity.Critical,
                expected_value=local.scheduled_plan.value,
            )
        )
    if findings.has_unclassified_event:
        found.append(
            Discrepancy(
                Kind.UnclassifiedStripeEvent,
                "A Stripe subscription update changed cancel-at-period-end and the plan in one payload; "
                "it was recorded as Unclassified.",
                Severity.Warning,
            )
        )
    for version in findings.unsupported_api_versions:
        found.append(
            Discrepancy(
                Kind.UnsupportedStripeApiVersion,
                f"Stripe events with API version '{version}' were not replayed.",
                Severity.Critical,
                actual_value=version,
            )
        )
    for stale in findings.stale_rows:
        found.append(
            Discrepancy(
                Kind.BillingEventDenormalizationStale,
                f"The stored {stale.event_type} billing event of {stale.occurred_at.isoformat()} replays to "
                "different amounts; stored rows are never rewritten.",
                Severity.Warning,
                expected_event_type=stale.event_type,
                occurred_at=stale.occurred_at,
            )
        )
    for transaction in transactions:
        clamped = _clamped(transaction)
        if clamped is not None:
            found.append(clamped)
    return found


def customer_missing(customer_id: str) -> Discrepancy:
    """Stripe answered 404 for the subscription's customer: nothing else can be
    compared, and nothing is changed (it may be a wrong account, not a deletion)."""
    return Discrepancy(
        Kind.CustomerMissingInStripe,
        f"The Stripe customer {customer_id} does not exist in Stripe; the subscription was left as it is.",
        Severity.Critical,
        expected_value=customer_id,
    )


def _mismatch(description: str, severity: Severity, expected: str | None, actual: str | None) -> Discrepancy:
    return Discrepancy(
        Kind.SubscriptionStateMismatch, description, severity, expected_value=expected, actual_value=actual
    )


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _clamped(transaction: Mapping[str, Any]) -> Discrepancy | None:
    """A transaction whose tax exceeded what was paid (docs/rules.md R40, R52)."""
    amount = Decimal(str(transaction.get("Amount") or 0))
    tax = Decimal(str(transaction.get("TaxAmount") or 0))
    excluding_tax = Decimal(str(transaction.get("AmountExcludingTax") or 0))
    if not (excluding_tax == 0 and tax > 0 and amount < tax):
        return None
    date = transaction.get("Date")
    return Discrepancy(
        Kind.AmountExcludingTaxClamped,
        f"Payment transaction {transaction.get('Id')}: tax {tax.quantize(TWO_PLACES)} exceeds the amount "
        f"{amount.quantize(TWO_PLACES)}; the amount excluding tax was clamped to 0.",
        Severity.Warning,
        expected_value=f"{amount.quantize(TWO_PLACES)}",
        actual_value=f"{tax.quantize(TWO_PLACES)}",
        occurred_at=datetime.fromisoformat(date) if isinstance(date, str) else None,
    )


# -- storage ------------------------------------------------------------------


def record(
    conn: Connection,
    *,
    subscription_id: str,
    tenant_id: int,
    discrepancies: Sequence[Discrepancy],
    now: datetime,
    bump_modified_at: bool = True,
) -> None:
    """Store the latest check on the subscription; add it to the history when
    it found something or cleared earlier findings."""
    stored = [d.to_json() for d in discrepancies]
    previous = conn.execute(
        select(Subscription.drift_discrepancies).where(Subscription.id == subscription_id)
    ).scalar_one_or_none()
    values: dict[str, Any] = {
        "has_drift_detected": bool(stored),
        "drift_checked_at": now,
        "drift_discrepancies": stored,
    }
    if bump_modified_at:
        values["modified_at"] = now
    conn.execute(update(Subscription).where(Subscription.id == subscription_id).values(**values))
    if stored or previous:
        conn.execute(
            text(
                "INSERT INTO billing_drift_checks (tenant_id, subscription_id, checked_at, has_drift_detected, discrepancies)"
                " VALUES (:tenant, :subscription, :now, :has_drift, CAST(:discrepancies AS jsonb))"
            ),
            {
                "tenant": tenant_id,
                "subscription": subscription_id,
                "now": now,
                "has_drift": bool(stored),
                "discrepancies": json.dumps(stored),
            },
        )


@dataclass(frozen=True)
class DriftCheck:
    checked_at: datetime
    has_drift_detected: bool
    discrepancies: list[Discrepancy] = field(default_factory=list)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


def history(conn: Connection, tenant_id: int, *, limit: int = 50) -> list[DriftCheck]:
    """The drift checks of a tenant's subscription, newest first."""
    rows = conn.execute(
        text(
            "SELECT checked_at, has_drift_detected, discrepancies, acknowledged_at, acknowledged_by"
            " FROM billing_drift_checks WHERE tenant_id = :tenant ORDER BY checked_at DESC, id DESC LIMIT :limit"
        ),
        {"tenant": tenant_id, "limit": limit},
    )
    return [
        DriftCheck(
            checked_at, has_drift, [Discrepancy.from_json(d) for d in discrepancies], acknowledged_at, acknowledged_by
        )
        for checked_at, has_drift, discrepancies, acknowledged_at, acknowledged_by in rows
    ]


@dataclass(frozen=True)
class Acknowledgement:
    tenant_id: int
    acknowledged_at: datetime
    acknowledged_by: str
    discrepancy_count: int


def acknowledge_drift(
    engine: Engine, tenant_id: int, operator: str, now: datetime, *, actor: Actor | None = None
) -> Acknowledgement:
    """Admin: clear has_drift_detected (docs/rules.md R54). The discrepancies stay
    on the subscription and in the history, marked acknowledged by `operator`;
    the next check that still finds drift raises the flag again. With an
    `actor` it is recorded in the audit trail in the same transaction (a
    failure in one of its own)."""
    try:
        with engine.begin() as conn:
            if not is_admin(conn):
                raise Forbidden("acknowledging drift needs an admin (a member of backoffice_admin)")
            done = acknowledge_drift_on(conn, tenant_id, operator, now)
            if actor is not None:
                actor.record(
                    conn, Action.drift_ack, tenant_id=tenant_id, details={"discrepancy_count": done.discrepancy_count}
                )
            return done
    except Exception as error:
        if actor is not None:
            actor.record_failure(engine, Action.drift_ack, error, tenant_id=tenant_id)
        raise


def acknowledge_drift_on(conn: Connection, tenant_id: int, operator: str, now: datetime) -> Acknowledgement:
    subscription = conn.execute(
        select(Subscription.id, Subscription.has_drift_detected, Subscription.drift_discrepancies)
        .where(Subscription.tenant_id == tenant_id)
        .with_for_update()
    ).one_or_none()
    if subscription is None:
        if conn.execute(text("SELECT 1 FROM tenants WHERE id = :id"), {"id": tenant_id}).first() is None:
            raise NotFound(f"tenant {tenant_id} not found")
        raise NotFound(f"Subscription for tenant '{tenant_id}' not found.")
    if not subscription.has_drift_detected:
        raise OperatorError("Subscription has no drift to acknowledge.")
    conn.execute(
        update(Subscription)
        .where(Subscription.id == subscription.id)
        .values(has_drift_detected=False, drift_checked_at=now, modified_at=now)
    )
    conn.execute(
        text(
            "UPDATE billing_drift_checks SET acknowledged_at = :now, acknowledged_by = :operator"
            " WHERE subscription_id = :subscription AND acknowledged_at IS NULL AND has_drift_detected"
        ),
        {"now": now, "operator": operator, "subscription": subscription.id},
    )
    return Acknowledgement(tenant_id, now, operator, len(subscription.drift_discrepancies or []))
