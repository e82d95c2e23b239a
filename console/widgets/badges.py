"""Small rendered facts shared by the list and detail screens: plan, status,
event and payment badges, the row-level MRR (backoffice.md 2.4), plan
transitions and the side pane's relative phrase.

Colours are Rich's named ones, so the 16-colour theme and NO_COLOR read well.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel import dates as babel_dates
from rich.text import Text

from console.formatting import DASH, money, signed_money
from console.i18n import babel_locale, current_locale, t
from core.accounts import AccountStatus
from db.enums import BillingEventType as E

PLAN_STYLES = {"Premium": "magenta", "Standard": "blue", "Basis": "dim"}

# backoffice.md 2.1: look and icon of each status.
STATUS_LOOK: dict[str, tuple[str, str]] = {
    AccountStatus.Active: ("green", "✓"),
    AccountStatus.Downgrading: ("yellow", "◷"),
    AccountStatus.Canceling: ("red", "✕"),
    AccountStatus.Canceled: ("dim", "−"),
    AccountStatus.Free: ("dim", ""),
}

_GREEN = (
    E.SubscriptionCreated,
    E.SubscriptionRenewed,
    E.SubscriptionUpgraded,
    E.SubscriptionDowngradeCancelled,
    E.SubscriptionReactivated,
    E.PaymentRecovered,
)
_AMBER = (E.SubscriptionDowngradeScheduled, E.SubscriptionDowngraded, E.SubscriptionPastDue, E.PaymentRefunded)
_ROSE = (
    E.SubscriptionCancelled,
    E.SubscriptionExpired,
    E.SubscriptionImmediatelyCancelled,
    E.SubscriptionSuspended,
    E.PaymentFailed,
)
_SKY = (E.BillingInfoAdded, E.BillingInfoUpdated, E.PaymentMethodUpdated)

# backoffice.md 4.3: the plan transition shows only for these types.
TRANSITION_TYPES = frozenset(
    {
        E.SubscriptionCreated,
        E.SubscriptionRenewed,
        E.SubscriptionUpgraded,
        E.SubscriptionDowngradeScheduled,
        E.SubscriptionDowngradeCancelled,
        E.SubscriptionDowngraded,
        E.SubscriptionReactivated,
        E.SubscriptionExpired,
        E.SubscriptionImmediatelyCancelled,
        E.SubscriptionSuspended,
        E.SubscriptionCancelled,
        E.PaymentRefunded,
    }
)


def plan_label(plan: object | None) -> str:
    return t(f"enum.plan.{plan}") if plan else DASH


def plan_badge(plan: object | None) -> Text:
    if not plan:
        return Text(DASH, style="dim")
    return Text(plan_label(plan), style=PLAN_STYLES.get(str(plan), ""))


def status_badge(status: object) -> Text:
    style, icon = STATUS_LOOK.get(str(status), ("", ""))
    label = t(f"enum.account_status.{status}")
    return Text(f"{icon} {label}" if icon else label, style=style)


def suspended_badge(state: str) -> Text:
    """The red pill shown beside the status when the account is not Active."""
    if state == "Active":
        return Text("")
    return Text(f"⏸ {t(f'enum.account_status.{state}')}", style="bold red")


def event_badge(event_type: object) -> Text:
    kind = E(str(event_type))
    style = (
        "green" if kind in _GREEN else "yellow" if kind in _AMBER else "red" if kind in _ROSE else "cyan" if kind in _SKY else "dim"
    )
    label = t(f"enum.event.{kind}")
    if kind is E.Unclassified:
        return Text(f"⚠ {label}", style="yellow")
    return Text(label, style=style)


def payment_status_badge(status: object, *, failure_reason: str | None = None) -> Text:
    name = str(status)
    style = {"Succeeded": "green", "Failed": "red"}.get(name, "dim")
    text = Text(t(f"enum.payment_status.{name}"), style=style)
    if name == "Failed" and failure_reason:
        text.append(f" ({failure_reason})", style="dim")
    return text


def mrr_text(
    current: Decimal | None, forward: Decimal | None, changes_at_renewal: bool, currency: str | None
) -> Text:
    """Rule 2.4: the current price struck through, then the new value, when a
    downgrade is scheduled or the subscription cancels; else the price or "-"."""
    if current is None or not currency:
        return Text("-")
    if changes_at_renewal:
        return Text.assemble((money(current, currency), "strike dim"), " → ", money(forward, currency))
    return Text(money(current, currency))


def signed_money_text(amount: Decimal | None, currency: str | None) -> Text:
    """An MRR impact: "+" for gains, red when negative, "—" without one."""
    style = "red" if amount is not None and amount < 0 else ""
    return Text(signed_money(amount, currency), style=style, justify="right")


def plan_transition(event_type: object, from_plan: str | None, to_plan: str | None) -> str:
    """"From → To" for the plan-moving types (backoffice.md 4.3); a cancellation
    reads "{to} → Basis" as the original shows it."""
    if E(str(event_type)) not in TRANSITION_TYPES or not to_plan:
        return DASH
    kind = E(str(event_type))
    if kind is E.SubscriptionCancelled:
        return f"{plan_label(to_plan)} → {plan_label('Basis')}"
    if from_plan is None and kind is not E.SubscriptionCreated:
        # The original writes "Basis → Premium" for a renewal that records no
        # previous plan; the plan alone says what happened.
        return plan_label(to_plan)
    return f"{plan_label(from_plan or 'Basis')} → {plan_label(to_plan)}"


def renewal_label_key(status: object, planned_cancellation: bool) -> str:
    """Side pane and current plan: "Expired" when canceled, "Expires" when
    canceling, else "Renewal date" (backoffice.md 2.4)."""
    if str(status) == AccountStatus.Canceled:
        return "account.expired"
    if planned_cancellation:
        return "account.expires"
    return "account.renewal_date"


def relative_phrase(moment: datetime, now: datetime) -> str:
    """"3 days ago", "2 months ago": the side pane's "Signed up" phrase, the
    unit chosen by magnitude as the original's RelativeTimeFormat does."""
    return babel_dates.format_timedelta(
        moment - now, add_direction=True, threshold=1, locale=babel_locale(current_locale())
    )


def country_text(country: str | None) -> str:
    """The ISO code with the country's name in the UI locale ("DK · Denmark")."""
    if not country:
        return DASH
    name = babel_locale(current_locale()).territories.get(country.upper())
    return f"{country.upper()} · {name}" if name else country.upper()


def role_text(role: object) -> Text:
    return Text(t(f"users.role.{role}"), style="bold" if str(role) == "Owner" else "")


def user_status_badge(email_confirmed: bool) -> Text:
    """Active once the e-mail is confirmed, Pending while invited."""
    if email_confirmed:
        return Text(f"✓ {t('users.status.Active')}", style="green")
    return Text(f"✕ {t('users.status.Pending')}", style="yellow")
