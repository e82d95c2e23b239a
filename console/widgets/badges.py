"""Small rendered facts shared by the list and detail screens: plan, status,
event and payment badges, the row-level MRR (docs/rules.md R36), plan
transitions and the side pane's relative phrase.

Colours are Rich's named ones, so the 16-colour theme and NO_COLOR read well.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel import dates as babel_dates
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from console.formatting import DASH, money, signed_money
from console.i18n import babel_locale, current_locale, t
from core.account_status import AccountState, AccountStatus, Renewal
from core.billing_events import plan_change
from core.initials import colour_index, initials
from db.enums import BillingEventType as E

PLAN_STYLES = {"Premium": "magenta", "Standard": "blue", "Basis": "dim"}

# docs/rules.md R73, R122: the colour and icon of each account state (a
# status is the state of the same name), one distinct standard colour each so
# the 16-colour theme tells them apart; the header's pill is the same colour
# behind the words.
STATE_LOOK: dict[str, tuple[str, str]] = {
    AccountState.Suspended: ("red", "⏸"),
    AccountState.PastDue: ("magenta", "!"),
    AccountState.Active: ("green", "✓"),
    AccountState.Downgrading: ("yellow", "◷"),
    AccountState.Canceling: ("bright_red", "✕"),
    AccountState.Canceled: ("bright_black", "−"),
    AccountState.Free: ("cyan", "○"),
}
# The list badge of a state that stops the account is reversed, as its pill is.
_LOUD_STATES = (AccountState.Suspended, AccountState.PastDue)
STATUS_LOOK: dict[str, tuple[str, str]] = {status: STATE_LOOK[status] for status in AccountStatus}

# docs/rules.md R121: the initials badges' colours, text on a background of
# its own, so every one reads on the dark, light and 16-colour themes alike.
INITIALS_STYLES = (
    "bold black on cyan",
    "bold black on green",
    "bold black on yellow",
    "bold white on blue",
    "bold white on magenta",
    "bold black on bright_cyan",
    "bold black on bright_green",
    "bold black on bright_yellow",
)
INITIALS_WIDTH = 2

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


def plan_label(plan: object | None) -> str:
    return t(f"enum.plan.{plan}") if plan else DASH


def plan_badge(plan: object | None) -> Text:
    if not plan:
        return Text(DASH, style="dim")
    return Text(plan_label(plan), style=PLAN_STYLES.get(str(plan), ""))


def status_badge(status: object) -> Text:
    """A derived status (R73), as the state of the same name looks."""
    return state_badge(status)


def state_label(state: object) -> str:
    """The state's words: a status's own, "Suspended", "Past due"."""
    return t(f"enum.account_status.{state}")


def state_badge(state: object) -> Text:
    """The accounts list's and side pane's status badge: icon and words in the
    state's colour (R122); Suspended and Past due reversed, as loud as a pill."""
    colour, icon = STATE_LOOK.get(str(state), ("", ""))
    label = state_label(state)
    style = f"bold white on {colour}" if str(state) in _LOUD_STATES else colour
    return Text(f"{icon} {label}" if icon else label, style=style)


def state_pill(state: object) -> Text:
    """The account header's pill: the state's words on its colour (R122)."""
    colour, icon = STATE_LOOK.get(str(state), ("", ""))
    label = state_label(state)
    text = f" {icon} {label} " if icon else f" {label} "
    foreground = "black" if colour in ("green", "yellow", "cyan") else "white"
    return Text(text, style=f"bold {foreground} on {colour}" if colour else "bold reverse")


def initials_badge(name: str | None, tenant_id: object) -> Text:
    """The account's two-letter badge in its stable colour (R121), two cells wide."""
    letters = initials(name)
    letters += " " * max(0, INITIALS_WIDTH - cell_len(letters))
    return Text(letters, style=INITIALS_STYLES[colour_index(str(tenant_id), len(INITIALS_STYLES))])


def named_with_initials(name: str, tenant_id: object, style: str = "") -> Text:
    """ "NA Nordlys ApS": the badge, a space, the name."""
    text = Text()
    text.append_text(initials_badge(name, tenant_id))  # its colour stays on the two letters
    text.append(" ")
    text.append(name, style=style)
    return text


def stripe_link(stripe_id: str | None, url: str | None) -> Text:
    """A Stripe id as a terminal hyperlink (OSC 8) to its dashboard page
    (R120); the id alone where there is no link, "-" without an id."""
    if not stripe_id:
        return Text(DASH, style="dim")
    if not url:
        return Text(stripe_id)
    return Text(stripe_id, style=Style(link=url, underline=True))


def event_badge(event_type: object) -> Text:
    kind = E(str(event_type))
    style = (
        "green"
        if kind in _GREEN
        else "yellow"
        if kind in _AMBER
        else "red"
        if kind in _ROSE
        else "cyan"
        if kind in _SKY
        else "dim"
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


def mrr_text(current: Decimal | None, forward: Decimal | None, changes_at_renewal: bool, currency: str | None) -> Text:
    """docs/rules.md R36: the current price struck through, then the new value, when a
    downgrade is scheduled or the subscription cancels; else the price or "-"."""
    if current is None or not currency:
        return Text("-")
    if changes_at_renewal:
        return Text.assemble((money(current, currency), "strike dim"), " → ", money(forward, currency))
    return Text(money(current, currency))


def invoice_amounts(
    excluding_tax: Decimal, tax: Decimal, total: Decimal, currency: str | None, *, sign: int = 1, struck: bool = False
) -> tuple[Text, Text, Text]:
    """Amount, VAT and total cells. A refund or credit note (`sign` -1) is money
    going back: negative and red; a transaction reversed later is struck through."""
    style = "red" if sign < 0 else "strike dim" if struck else ""
    return (
        Text(money(sign * excluding_tax, currency), style=style, justify="right"),
        Text(money(sign * tax, currency), style=style or "dim", justify="right"),
        Text(money(sign * total, currency), style=style, justify="right"),
    )


def credit_applied(amount_from_credit: Decimal, currency: str | None) -> Text:
    """ " · credit applied DKK 25.00" after a status, when amount + VAT is not
    the total because a credit balance paid part of it; empty otherwise."""
    if not amount_from_credit:
        return Text("")
    return Text(f" · {t('invoice.credit_applied', amount=money(amount_from_credit, currency))}", style="dim")


def signed_money_text(amount: Decimal | None, currency: str | None) -> Text:
    """An MRR impact: "+" for gains, red when negative, "—" without one."""
    style = "red" if amount is not None and amount < 0 else ""
    return Text(signed_money(amount, currency), style=style, justify="right")


def plan_transition(event_type: object, from_plan: str | None, to_plan: str | None) -> str:
    """ "Standard → Premium", or the plan alone, or "—" (core.billing_events.plan_change)."""
    plans = plan_change(E(str(event_type)), from_plan, to_plan)
    return " → ".join(plan_label(plan) for plan in plans) or DASH


_RENEWAL_LABELS = {
    Renewal.Renews: "account.renewal_date",
    Renewal.Expires: "account.expires",
    Renewal.Expired: "account.expired",
}


def renewal_label(renewal: Renewal) -> str:
    """Side pane and current plan: "Renewal date", "Expires" or "Expired" (R77)."""
    return t(_RENEWAL_LABELS[renewal])


def renewal_phrase(renewal: Renewal, date: str) -> str:
    """A tile's "Renews May 7, 2026", "Expires ..." or "Expired ..." (R77)."""
    return t(f"account.renewal.{renewal}", date=date)


def relative_phrase(moment: datetime, now: datetime) -> str:
    """ "3 days ago", "2 months ago": the side pane's "Signed up" phrase, the
    largest unit of which at least one has passed (docs/rules.md R181)."""
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
    """Confirmed once the e-mail is confirmed, Pending while invited. Not
    "Active": the account's users tile counts active as seen lately (R87)."""
    if email_confirmed:
        return Text(f"✓ {t('users.status.Confirmed')}", style="green")
    return Text(f"✕ {t('users.status.Pending')}", style="yellow")
