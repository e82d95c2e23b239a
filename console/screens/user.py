"""One person (docs/figures.md#user: tiles Tenant memberships,
Active sessions, Logins in last 30 days; tabs Overview (memberships and
recent logins) / Logins / Sessions).

`navigate("user", user_id=..., tab="logins")`. A person is every users row
with the same e-mail: memberships, sign-ins and sessions span them all.
Enter on a membership opens its account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.widgets import Static, TabPane

from console.formatting import DASH, number, short_date, short_datetime
from console.i18n import t
from console.screens.detail_screen import DetailScreen, detail_header
from console.widgets.badges import mrr_text, plan_badge, role_text, status_badge
from console.widgets.columns import PREFIXED_ID_WIDTH, TENANT_ID_WIDTH, date_width, datetime_width, mrr_width, widest
from console.widgets.paged_list import Cell, Column, PagedList
from console.widgets.scroll import ScrollArea
from console.widgets.tiles import Tile
from core.account_status import AccountStatus
from core.paging import Page, PageRequest
from core.user_activity import LoginAttempt, LoginOutcome, SessionState, UserSession, login_history, sessions
from core.users import Membership, UserDetail, memberships, user_detail
from db.enums import DeviceType, ExternalLoginResult, LoginMethod, SubscriptionPlan, UserRole

RECENT_LOGINS = 5
IP_WIDTH = 15  # an IPv4 address; a longer IPv6 one is cut with an ellipsis
TOO_MANY_RETRIES = "TooManyRetries"  # core.user_activity's reason for an e-mail code tried too often


def method_width() -> int:
    return widest(t(f"enum.login_method.{method}") for method in LoginMethod)


def device_width() -> int:
    return widest(t(f"user.device.{device}") for device in DeviceType)


def outcome_width() -> int:
    """The outcomes, and a failure with each reason code there is."""
    reasons = (
        TOO_MANY_RETRIES,
        *(result for result in ExternalLoginResult if result is not ExternalLoginResult.Success),
    )
    return max(
        widest(outcome_text(outcome) for outcome in LoginOutcome),
        widest(outcome_text(LoginOutcome.Failed, reason) for reason in reasons),
    )


def session_status_width() -> int:
    return widest(session_status(state).plain for state in SessionState)


# The sign before the word keeps the state readable without colour.
SESSION_STATUS_STYLES = {
    SessionState.Active: ("✓", "green", "user.sessions.active"),
    SessionState.Expired: ("·", "dim", "user.sessions.expired"),
    SessionState.Revoked: ("✕", "bold red", "user.sessions.revoked"),
}


def session_status(state: SessionState) -> Text:
    sign, style, key = SESSION_STATUS_STYLES[state]
    return Text(f"{sign} {t(key)}", style=style)


@dataclass(frozen=True)
class PersonQuery:
    email: str
    now: datetime


class MembershipsList(PagedList[PersonQuery, Membership]):
    """A person belongs to few accounts: all of them, on one page."""

    COLUMNS = (
        Column("account", "user.memberships.column.account", width=24, flex=True),
        Column("role", "user.memberships.column.role", width=lambda: widest(role_text(role) for role in UserRole)),
        Column(
            "plan",
            "user.memberships.column.plan",
            width=lambda: widest(plan_badge(p) for p in SubscriptionPlan),
            drop=2,
        ),
        Column(
            "status",
            "user.memberships.column.status",
            width=lambda: widest(status_badge(status) for status in AccountStatus),
            drop=1,
        ),
        Column("mrr", "user.memberships.column.mrr", width=mrr_width, justify="right", drop=3, cut=False),
        Column("renews", "user.memberships.column.renews", width=date_width, drop=4),
        Column("id", "list.column.account_id", width=TENANT_ID_WIDTH, drop=5),
    )
    NOUN = "user.memberships.count"
    ORDER = "list.order.oldest_first"
    PAGEABLE = False

    def fetch(self, conn: Connection, query: PersonQuery, page: PageRequest) -> Page[Membership]:
        items = memberships(conn, query.email)
        return Page(items, len(items), 1, max(1, len(items)))

    def row_key(self, item: Membership) -> str:
        return item.user_id

    def cells(self, item: Membership) -> tuple[Cell, ...]:
        name = Text(item.tenant_name)
        if not item.email_confirmed:
            name.append(f"  {t('users.status.Pending')}", style="yellow")
        return (
            name,
            role_text(item.role),
            plan_badge(item.plan),
            status_badge(item.status),
            Text.assemble(
                mrr_text(
                    item.monthly_recurring_revenue,
                    item.forward_monthly_recurring_revenue,
                    item.mrr_changes_at_renewal,
                    item.currency,
                ),
                justify="right",
            ),
            short_date(item.renewal_date) if item.renewal_date else "-",
            Text(item.tenant_id, style="dim"),
        )

    def item_id(self, item: Membership) -> str:
        return item.tenant_id  # the row stands for the account

    def empty_message(self) -> tuple[str, str]:
        return (t("user.memberships.empty"), t("user.memberships.empty_hint"))


def outcome_badge(attempt: LoginAttempt) -> Text:
    return outcome_text(attempt.outcome, attempt.failure_reason)


def outcome_text(outcome: LoginOutcome, failure_reason: str | None = None) -> Text:
    """Succeeded green; a failure with a reason shows the raw reason code (the
    result name, docs/rules.md R88); Pending muted; else Failed red."""
    if outcome is LoginOutcome.Succeeded:
        return Text(f"✓ {t('user.login.Succeeded')}", style="green")
    if failure_reason:
        return Text(f"⚠ {failure_reason}", style="yellow")
    if outcome is LoginOutcome.Pending:
        return Text(t("user.login.Pending"), style="dim")
    return Text(f"✕ {t('user.login.Failed')}", style="red")


class LoginsList(PagedList[PersonQuery, LoginAttempt]):
    COLUMNS = (
        Column("when", "user.logins.column.when", width=datetime_width),
        Column("method", "user.logins.column.method", width=method_width),
        Column("outcome", "user.logins.column.outcome", width=outcome_width, flex=True, max_width=0),
        Column("ip", "user.logins.column.ip", width=IP_WIDTH, drop=2),
        Column("device", "user.logins.column.device", width=24, drop=1, flex=True),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=3),
    )
    NOUN = "user.logins.count"
    ORDER = "list.order.newest_first"

    def fetch(self, conn: Connection, query: PersonQuery, page: PageRequest) -> Page[LoginAttempt]:
        return login_history(conn, query.email, now=query.now, page=page)

    def row_key(self, item: LoginAttempt) -> str:
        return item.id

    def cells(self, item: LoginAttempt) -> tuple[Cell, ...]:
        device = DASH
        if item.browser or item.device_type:
            device = " · ".join(
                part
                for part in (
                    t(f"user.device.{item.device_type}") if item.device_type else None,
                    item.browser,
                    item.operating_system,
                )
                if part
            )
        return (
            short_datetime(item.occurred_at),
            t(f"enum.login_method.{item.method}"),
            outcome_badge(item),
            Text(item.ip_address or DASH, style="dim"),
            device,
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("user.logins.empty"), t("user.logins.empty_hint"))


class RecentLoginsList(LoginsList):
    PAGEABLE = False
    PAGE_SIZE = RECENT_LOGINS


class SessionsList(PagedList[PersonQuery, UserSession]):
    COLUMNS = (
        Column("last_seen", "user.sessions.column.last_seen", width=datetime_width),
        Column("account", "user.sessions.column.account", width=20, drop=3, flex=True),
        Column("browser", "user.sessions.column.browser", width=20, flex=True),
        Column("device", "user.sessions.column.device", width=device_width, drop=2),
        Column("method", "user.sessions.column.method", width=method_width, drop=4),
        Column("ip", "user.sessions.column.ip", width=IP_WIDTH, drop=1),
        Column("status", "user.sessions.column.status", width=session_status_width),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=5),
    )
    NOUN = "user.sessions.count"
    ORDER = "list.order.last_seen_first"

    def fetch(self, conn: Connection, query: PersonQuery, page: PageRequest) -> Page[UserSession]:
        return sessions(conn, query.email, now=query.now, page=page)

    def row_key(self, item: UserSession) -> str:
        return item.id

    def cells(self, item: UserSession) -> tuple[Cell, ...]:
        status = session_status(item.state)
        return (
            short_datetime(item.last_seen_at),
            item.tenant_name or DASH,
            f"{item.browser} · {item.operating_system}",
            t(f"user.device.{item.device_type}"),
            t(f"enum.login_method.{item.login_method}"),
            Text(item.ip_address, style="dim"),
            status,
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("user.sessions.empty"), t("user.sessions.empty_hint"))


class UserScreen(DetailScreen[UserDetail]):
    """navigate("user", user_id=..., tab=...)."""

    NAME = "user"
    TITLE_KEY = "screen.user"
    MENU_ITEM = "users"
    KEY_SCOPES = ("tabs",)
    ID = "user"
    TABS = ("overview", "logins", "sessions")
    TAB_LISTS = {"logins": "#user-logins", "sessions": "#user-sessions"}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.user_id = str(params.get("user_id", ""))

    @property
    def detail(self) -> UserDetail | None:
        return self.loaded

    def screen_title(self) -> str:
        if self.detail is not None:
            return self.detail.display_name
        return t(self.TITLE_KEY)

    def compose_tiles(self) -> ComposeResult:
        yield Tile(t("user.tile.memberships"), tab="overview", id="tile-memberships")
        yield Tile(t("user.tile.sessions"), tab="sessions", id="tile-sessions")
        yield Tile(t("user.tile.logins"), tab="logins", id="tile-logins")

    def compose_tabs(self) -> ComposeResult:
        with TabPane(t("user.tab.overview"), id="overview"):
            with ScrollArea(classes="overview"):
                yield Static(t("user.memberships.title"), classes="section-title")
                yield MembershipsList(id="user-memberships", classes="preview")
                yield Static(t("user.recent_logins"), classes="section-title")
                yield RecentLoginsList(id="user-recent-logins", classes="preview")
        with TabPane(t("user.tab.logins"), id="logins"):
            yield Static(t("user.logins.intro"), classes="tab-intro")
            yield LoginsList(id="user-logins")
        with TabPane(t("user.tab.sessions"), id="sessions"):
            yield Static(t("user.sessions.intro"), classes="tab-intro")
            yield SessionsList(id="user-sessions")

    def fetch(self, conn: Connection, now: datetime) -> UserDetail:
        return user_detail(conn, self.user_id, now)

    def tab_query(self) -> PersonQuery:
        assert self.detail is not None  # the tabs load once the person is shown
        return PersonQuery(self.detail.email, self.backoffice.clock())

    def first_shown(self, detail: UserDetail) -> None:
        query = self.tab_query()
        self.query_one(MembershipsList).load(query)
        self.query_one(RecentLoginsList).load(query)

    def paint(self, detail: UserDetail) -> None:
        self.query_one("#user-header", Static).update(_header(detail))
        tiles = detail.tiles
        self.query_one("#tile-memberships", Tile).show(
            number(tiles.memberships), t("user.memberships.count", count=tiles.memberships)
        )
        self.query_one("#tile-sessions", Tile).show(number(tiles.active_sessions), t("user.tile.sessions_hint"))
        self.query_one("#tile-logins", Tile).show(number(tiles.logins_last_30_days), t("user.tile.logins_hint"))

    def focus_overview(self) -> None:
        self.query_one(MembershipsList).focus_table()

    def on_paged_list_opened(self, message: PagedList.Opened) -> None:
        if isinstance(message.paged_list, MembershipsList):
            self.backoffice.navigate("account", tenant_id=message.item.tenant_id)


def _header(detail: UserDetail) -> RenderableType:
    title = Text(detail.display_name, style="bold")
    title.append("  ")
    if detail.email_confirmed:
        title.append(f"✓ {t('user.email_confirmed')}", style="green")
    else:
        title.append(f"✕ {t('user.email_pending')}", style="yellow")
    return detail_header(title, (detail.email, t("user.created", date=short_date(detail.created_at)), f"# {detail.id}"))
