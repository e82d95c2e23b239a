"""The accounts list's side pane (docs/figures.md#side-pane: top three
users plus the counts).

The header shows at once, from the list row. The rest (plan and revenue,
owners, users, signed up) is fetched once the cursor has rested on an
account for AccountPane.DEBOUNCE_SECONDS, so scrolling through the list runs no
query per row; an answer for an account the cursor has left is dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from console.app_access import backoffice
from console.formatting import DASH, ago, money, short_date
from console.i18n import t
from console.widgets.badges import (
    country_text,
    mrr_text,
    named_with_initials,
    plan_badge,
    relative_phrase,
    renewal_label,
    state_badge,
    status_badge,
    stripe_link,
)
from console.widgets.paged_list import PagedList, describe_load_error, retrying
from core.account_detail import AccountSummary, account_summary
from core.account_status import AccountState
from core.account_users import UserCounts
from core.accounts import AccountRow
from core.errors import OperatorError
from core.stripe_links import customer_url, subscription_url


class AccountPane(VerticalScroll):
    """Shows `show(row)`; loads the account's summary after the debounce."""

    can_focus = False
    # A cursor resting this long loads the summary (tests shorten it).
    DEBOUNCE_SECONDS: ClassVar[float] = 0.2
    RETRY_SECONDS: ClassVar[float] = PagedList.RETRY_SECONDS  # between tries of a failed summary

    class SummaryLoaded(Message):
        def __init__(self, tenant_id: str, summary: AccountSummary) -> None:
            super().__init__()
            self.tenant_id = tenant_id
            self.summary = summary

    class SummaryFailed(Message):
        def __init__(self, tenant_id: str, error: str, retry: bool) -> None:
            super().__init__()
            self.tenant_id = tenant_id
            self.error = error
            self.retry = retry

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="account-pane")
        self.row: AccountRow | None = None
        self.summary: AccountSummary | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="pane-header")
        yield Static("", id="pane-body")

    @property
    def tenant_id(self) -> str | None:
        return self.row.id if self.row is not None else None

    def show(self, row: AccountRow | None, now: datetime, *, force: bool = False) -> None:
        """Follow the cursor. `force` reloads the same account (after a write)."""
        if row is not None and not force and self.row is not None and row.id == self.row.id:
            self.row = row  # the same account, maybe changed: refresh the header only
            self.query_one("#pane-header", Static).update(self._header(row))
            return
        self.row = row
        self.summary = None
        self._stop_timer()
        if row is None:
            self.query_one("#pane-header", Static).update(escape(t("accounts.pane.none")))
            self.query_one("#pane-body", Static).update("")
            return
        self.query_one("#pane-header", Static).update(self._header(row))
        self.query_one("#pane-body", Static).update(Text(t("list.loading"), style="dim"))
        self._timer = self.set_timer(self.DEBOUNCE_SECONDS, lambda: self._load(row.id, now))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    @work(thread=True, exclusive=True, group="pane")
    def _load(self, tenant_id: str, now: datetime) -> None:
        worker = get_current_worker()
        try:
            with backoffice(self).read_only() as conn:
                summary = account_summary(conn, tenant_id, now)
        except Exception as error:  # the pane says so and tries again; the list goes on
            if not worker.is_cancelled:
                retry = not isinstance(error, OperatorError)  # "not found" is an answer
                self.post_message(self.SummaryFailed(tenant_id, describe_load_error(error), retry))
            return
        if not worker.is_cancelled:
            self.post_message(self.SummaryLoaded(tenant_id, summary))

    def on_account_pane_summary_loaded(self, message: SummaryLoaded) -> None:
        message.stop()
        if message.tenant_id != self.tenant_id:
            return  # the cursor has moved on
        self.summary = message.summary
        self.query_one("#pane-body", Static).update(self._body(message.summary, self._now()))

    def on_account_pane_summary_failed(self, message: SummaryFailed) -> None:
        message.stop()
        if message.tenant_id != self.tenant_id:
            return
        text = Text(t("list.error", error=message.error), style="red")
        if message.retry:
            # As the lists do (PagedList.RETRY_SECONDS): the pane recovers by
            # itself when the database is back, without a cursor move.
            text.append(f" · {retrying(self.RETRY_SECONDS)}", style="dim")
            self._stop_timer()
            self._timer = self.set_timer(self.RETRY_SECONDS, lambda: self._load(message.tenant_id, self._now()))
        self.query_one("#pane-body", Static).update(text)

    def _now(self) -> datetime:
        return backoffice(self).clock()

    # -- rendering -----------------------------------------------------------

    @staticmethod
    def _header(row: AccountRow) -> RenderableType:
        # docs/rules.md R121, R122: the initials badge, then the state as the list shows it.
        badges = Text.assemble(plan_badge(row.plan), "  ", state_badge(row.account_state))
        if row.account_state in (AccountState.Suspended, AccountState.PastDue):
            badges.append("  ")
            badges.append_text(status_badge(row.status))
        lines: list[RenderableType] = [
            named_with_initials(row.name, row.id, style="bold"),
            badges,
            Text(country_text(row.country), style="dim"),
        ]
        return Group(*lines)

    def _stripe(self, summary: AccountSummary) -> list[RenderableType]:
        """The Stripe ids, one a line (they are long), as links to the dashboard
        (docs/rules.md R120)."""
        key = backoffice(self).settings.stripe_api_key
        links = [
            stripe_link(stripe_id, url(stripe_id, key))
            for stripe_id, url in (
                (summary.stripe_customer_id, customer_url),
                (summary.stripe_subscription_id, subscription_url),
            )
            if stripe_id
        ]
        return [_section(t("account.stripe")), *links] if links else []

    def _body(self, summary: AccountSummary, now: datetime) -> RenderableType:
        return Group(
            _section(t("accounts.pane.plan_revenue")),
            _plan_and_revenue(summary),
            *self._stripe(summary),
            _section(t("accounts.pane.owners")),
            _owners(summary),
            _section(t("accounts.pane.users")),
            _users(summary, now),
            _section(t("accounts.pane.signed_up")),
            _pair_line(short_date(summary.created_at), relative_phrase(summary.created_at, now)),
            Text(""),
            Text(t("accounts.pane.open_hint"), style="dim italic"),
        )


def _section(title: str) -> Text:
    return Text.assemble("\n", (title, "bold underline"))


def _facts(*pairs: tuple[str, RenderableType | str]) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    # Labels keep their words; a long value (a changing MRR) wraps instead.
    table.add_column(style="dim", no_wrap=True, min_width=max((cell_len(label) for label, _ in pairs), default=0))
    table.add_column(justify="right")
    for label, value in pairs:
        table.add_row(label, value)
    return table


def _plan_and_revenue(summary: AccountSummary) -> RenderableType:
    facts = _facts(
        (renewal_label(summary.renewal), short_date(summary.renewal_date)),
        (
            t("accounts.column.mrr"),
            mrr_text(
                summary.monthly_recurring_revenue,
                summary.forward_monthly_recurring_revenue,
                summary.mrr_changes_at_renewal,
                summary.currency,
            ),
        ),
        (t("account.subscribed_since"), short_date(summary.subscribed_since)),
        (t("account.lifetime_value"), money(summary.lifetime_value, summary.currency)),
        (t("accounts.pane.last_invoice"), short_date(summary.last_invoice_date)),
        (
            t("accounts.pane.subtotal"),
            money(summary.last_invoice_amount_excluding_tax, summary.last_invoice_currency),
        ),
    )
    return facts


def _owners(summary: AccountSummary) -> RenderableType:
    if not summary.owners.items:
        return Text(t("accounts.pane.no_owners"), style="dim")
    lines = []
    for owner in summary.owners.items:
        line = Text(owner.display_name)
        if owner.title:
            line.append(f" · {owner.title}", style="dim")
        if owner.display_name != owner.email:
            line.append(f"\n  {owner.email}", style="dim")
        lines.append(line)
    if summary.owners.total > len(summary.owners.items):
        lines.append(
            Text(t("accounts.pane.more_owners", count=summary.owners.total - len(summary.owners.items)), style="dim")
        )
    return Group(*lines)


def _users(summary: AccountSummary, now: datetime) -> RenderableType:
    counts = summary.user_counts
    parts: list[RenderableType] = [
        Text(t("account.users_total", count=counts.total_users), style="bold"),
        users_legend(counts),
        user_bar(counts, 32),
    ]
    for user in summary.top_users:
        parts.append(
            _pair_line(
                user.display_name, ago(user.last_seen_at, now) if user.last_seen_at else t("accounts.pane.never_seen")
            )
        )
    return Group(*parts)


def users_legend(counts: UserCounts) -> Text:
    """ "█ 2 active  █ 1 inactive  █ 1 pending", each in its bar segment's glyph and colour."""
    parts = [
        (counts.active_users, "account.users_active", "green"),
        (counts.inactive_users, "account.users_inactive", "yellow"),
        (counts.pending_users, "account.users_pending", "bright_black"),
    ]
    text = Text()
    for value, key, style in parts:
        if text:
            text.append(" ")
        text.append("█ ", style=style)
        text.append(t(key, count=value))
    return text


def user_bar(counts: UserCounts, width: int) -> Text:
    """The segmented bar: active green, inactive amber, pending grey."""
    if not counts.total_users:
        return Text("░" * width, style="dim")
    segments = []
    remaining = width
    for value, style in (
        (counts.active_users, "green"),
        (counts.inactive_users, "yellow"),
        (counts.pending_users, "bright_black"),
    ):
        cells = round(width * value / counts.total_users) if value else 0
        cells = min(cells, remaining)
        remaining -= cells
        segments.append(("█" * cells, style))
    if remaining and segments:
        # Rounding leftovers go to the largest segment.
        index = max(range(3), key=lambda i: (counts.active_users, counts.inactive_users, counts.pending_users)[i])
        text, style = segments[index]
        segments[index] = (text + "█" * remaining, style)
    return Text.assemble(*segments)


def _pair_line(left: str, right: str) -> Table:
    return _facts((left, right or DASH))
