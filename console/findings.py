"""Drift findings in words, for the account screen and the command line alike:
what differs, with our value and Stripe's side by side, never a class name.

The words come from the catalogs (translations/*/drift.json); the command line
never chooses a locale, so it reads them in English. A kind this version does
not know shows its stored description.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from console.formatting import DASH, moment, money
from console.i18n import DEFAULT_LOCALE, has_key, set_locale, t
from core.account_detail import DriftDiscrepancy, DriftSubject
from core.listing import as_utc

_DIFFERS = "drift.differs"  # "here {local}, in Stripe {stripe}"
# What each kind's sentence needs from the finding; without it, its stored description.
_NEEDS: dict[str, tuple[str, ...]] = {
    "MissingEvent": ("expected_value",),
    "ScheduledPriceMissing": ("expected_value",),
    "UnsupportedStripeApiVersion": ("actual_value",),
    "BillingEventDenormalizationStale": ("expected_event_type", "occurred_at"),
    "AmountExcludingTaxClamped": ("expected_value", "actual_value"),
    "CustomerMissingInStripe": ("expected_value",),
}


def finding_text(finding: DriftDiscrepancy, currency: str | None) -> str:
    """ "Price differs: here DKK 149.00, in Stripe DKK 199.00"."""
    if finding.kind == "SubscriptionStateMismatch":
        subject = finding.subject.value if finding.subject else "Other"
        values = t(
            _DIFFERS,
            local=_value(finding.subject, finding.actual_value, currency),
            stripe=_value(finding.subject, finding.expected_value, currency),
        )
        return f"{t(f'drift.mismatch.{subject}')}: {values}"
    key = f"drift.kind.{finding.kind}"
    if not has_key(key) or any(getattr(finding, name) is None for name in _NEEDS.get(finding.kind, ())):
        return finding.description or finding.kind
    return t(
        key,
        value=finding.expected_value or finding.actual_value or DASH,
        event=t(f"enum.event.{finding.expected_event_type}") if finding.expected_event_type else DASH,
        time=moment(_instant(finding.occurred_at)),
        amount=_money(finding.expected_value, currency),
        tax=_money(finding.actual_value, currency),
        plan=t(f"enum.plan.{finding.expected_value}") if finding.expected_value else DASH,
    )


def english_findings(findings: list[DriftDiscrepancy], currency: str | None) -> list[tuple[str, str]]:
    """(severity, finding) rows for the command line, which stays English."""
    set_locale(DEFAULT_LOCALE)
    return [(severity_text(finding), finding_text(finding, currency)) for finding in findings]


def severity_text(finding: DriftDiscrepancy) -> str:
    return t(f"drift.severity.{finding.severity}") if finding.severity else ""


def _value(subject: DriftSubject | None, value: str | None, currency: str | None) -> str:
    if value is None:
        return t("drift.none")
    if subject is DriftSubject.Price:
        return _money(value, currency)
    if subject is DriftSubject.Plan:
        return t(f"enum.plan.{value}")
    if subject is DriftSubject.CancelAtPeriodEnd:
        return t("drift.cancels" if value == "True" else "drift.renews")
    return value


def _money(value: str | None, currency: str | None) -> str:
    """A stored amount with the account's currency; as stored without one."""
    if value is None:
        return DASH
    try:
        return money(Decimal(value), currency) if currency else value
    except InvalidOperation:
        return value


def _instant(value: str | None) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(value)) if value else None
    except ValueError:
        return None
