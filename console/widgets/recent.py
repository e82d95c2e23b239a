"""The dashboard's "recent" tables: signups, logins, payments, billing events.

Rows are keyed by the domain id; enter (or a click) on a row opens its account
or user (docs/figures.md#recent-cards). The cursor stays on the same row across
refreshes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.widgets import DataTable

from console.app_access import backoffice
from console.formatting import DASH, ago, money, signed_money
from console.i18n import t
from console.widgets.cards import CardRequest, DataCard
from core.dashboard.recent import (
    RecentBillingEvent,
    RecentItems,
    RecentLogin,
    RecentPayment,
    RecentSignup,
    recent_billing_events,
    recent_logins,
    recent_payments,
    recent_signups,
)
from core.listing import display_name

ItemT = TypeVar("ItemT")


def _cell_width(cell: str | Text) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class RecentCard(DataCard[CardRequest, RecentItems[ItemT]], Generic[ItemT]):
    COLUMNS: ClassVar[tuple[str, ...]] = ()  # translation keys of the column heads
    # Indexes of COLUMNS a narrow card leaves out, the most expendable first
    # (each card lists its own).
    OPTIONAL: ClassVar[tuple[int, ...]] = ()
    EMPTY: ClassVar[tuple[str, str]] = ("", "")
    request_key_fields = ()  # recent rows do not depend on the period

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self._visible: tuple[int, ...] = ()

    def compose_content(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True, show_cursor=True)

    def shows_no_data(self, data: RecentItems[ItemT]) -> bool:
        return not data.items

    def empty_message(self) -> tuple[str, str]:
        return (t(self.EMPTY[0]), t(self.EMPTY[1]))

    def show_data(self, data: RecentItems[ItemT]) -> None:
        rows = [(self.row_key(item), self.cells(item)) for item in data.items]
        visible = self._fitting_columns(rows, self.content_size.width)
        table = self.query_one(DataTable)
        selected = self._cursor_key(table)
        table.clear(columns=True)
        table.add_columns(*(t(self.COLUMNS[index]) for index in visible))
        for key, cells in rows:
            table.add_row(*(cells[index] for index in visible), key=key)
        self._visible = visible
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)

    def on_resize(self) -> None:
        if self.data is None or self.state != "data":
            return
        rows = [(self.row_key(item), self.cells(item)) for item in self.data.items]
        if self._fitting_columns(rows, self.content_size.width) != self._visible:
            self.show_data(self.data)

    def _fitting_columns(self, rows: list[tuple[str, tuple[str | Text, ...]]], width: int) -> tuple[int, ...]:
        """All columns when they fit in `width`, else without the optional ones, in order."""
        widths = [
            max([cell_len(t(key)), *(_cell_width(cells[index]) for _, cells in rows)]) + 2  # cell padding
            for index, key in enumerate(self.COLUMNS)
        ]
        visible = list(range(len(self.COLUMNS)))
        for optional in self.OPTIONAL:
            if width <= 0 or sum(widths[index] for index in visible) <= width:
                break
            visible.remove(optional)
        return tuple(visible)

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> Any:
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # no cursor row yet
            return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.data is None:
            return
        for item in self.data.items:
            if self.row_key(item) == event.row_key.value:
                target = self.target(item)
                if target is not None:
                    name, params = target
                    backoffice(self).navigate(name, **params)
                return

    def row_key(self, item: ItemT) -> str:
        raise NotImplementedError

    def cells(self, item: ItemT) -> tuple[str | Text, ...]:
        raise NotImplementedError

    def target(self, item: ItemT) -> tuple[str, dict[str, Any]] | None:
        return None

    def now(self) -> Any:
        return self.request.now if self.request is not None else None


def _plan(plan: object | None) -> str:
    return t(f"enum.plan.{plan}") if plan else DASH


class RecentSignupsCard(RecentCard[RecentSignup]):
    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = ("accounts", {"sort": "created-at", "descending": True})
    COLUMNS = (
        "dashboard.column.account",
        "dashboard.column.plan",
        "dashboard.column.owner",
        "dashboard.column.signed_up",
    )
    OPTIONAL = (2,)  # owner
    EMPTY = ("dashboard.empty.signups", "dashboard.empty.signups_description")

    def __init__(self) -> None:
        super().__init__(t("dashboard.recent.signups"), id="recent-signups")

    def fetch(self, conn: Connection, request: CardRequest) -> RecentItems[RecentSignup]:
        return recent_signups(conn)

    def row_key(self, item: RecentSignup) -> str:
        return item.tenant_id

    def cells(self, item: RecentSignup) -> tuple[str | Text, ...]:
        owner = display_name(item.owner.first_name, item.owner.last_name, item.owner.email) if item.owner else DASH
        return (item.name, _plan(item.plan), owner, ago(item.subscribed_since or item.created_at, self.now()))

    def target(self, item: RecentSignup) -> tuple[str, dict[str, Any]]:
        return ("account", {"tenant_id": item.tenant_id})


class RecentLoginsCard(RecentCard[RecentLogin]):
    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = ("users", {})
    COLUMNS = ("dashboard.column.user", "dashboard.column.account", "dashboard.column.method", "dashboard.column.when")
    OPTIONAL = (1, 2)  # account, method
    EMPTY = ("dashboard.empty.logins", "dashboard.empty.logins_description")

    def __init__(self) -> None:
        super().__init__(t("dashboard.recent.logins"), id="recent-logins")

    def fetch(self, conn: Connection, request: CardRequest) -> RecentItems[RecentLogin]:
        return recent_logins(conn, request.now)

    def row_key(self, item: RecentLogin) -> str:
        return f"{item.email}|{item.occurred_at.isoformat()}"

    def cells(self, item: RecentLogin) -> tuple[str | Text, ...]:
        return (
            display_name(item.first_name, item.last_name, item.email),
            item.tenant_name or DASH,
            t(f"enum.login_method.{item.method}"),
            ago(item.occurred_at, self.now()),
        )

    def target(self, item: RecentLogin) -> tuple[str, dict[str, Any]] | None:
        return ("user", {"user_id": item.user_id}) if item.user_id else None


class RecentPaymentsCard(RecentCard[RecentPayment]):
    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = ("invoices", {})
    COLUMNS = (
        "dashboard.column.account",
        "dashboard.column.plan",
        "dashboard.column.total",
        "dashboard.column.status",
        "dashboard.column.date",
    )
    OPTIONAL = (1, 4)  # plan, date
    EMPTY = ("dashboard.empty.payments", "dashboard.empty.payments_description")

    def __init__(self) -> None:
        super().__init__(t("dashboard.recent.payments"), id="recent-payments")

    def fetch(self, conn: Connection, request: CardRequest) -> RecentItems[RecentPayment]:
        return recent_payments(conn)

    def row_key(self, item: RecentPayment) -> str:
        return item.id

    def cells(self, item: RecentPayment) -> tuple[str | Text, ...]:
        refunded = str(item.status) == "Refunded"
        total = Text(money(item.amount, item.currency), style="strike dim" if refunded else "", justify="right")
        status_style = {"Succeeded": "green", "Failed": "red"}.get(str(item.status), "dim")
        return (
            item.tenant_name,
            _plan(item.plan),
            total,
            Text(t(f"enum.payment_status.{item.status}"), style=status_style),
            ago(item.date, self.now()),
        )

    def target(self, item: RecentPayment) -> tuple[str, dict[str, Any]]:
        return ("account", {"tenant_id": item.tenant_id, "tab": "invoices"})


class RecentBillingEventsCard(RecentCard[RecentBillingEvent]):
    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = ("billing_events", {})
    COLUMNS = (
        "dashboard.column.account",
        "dashboard.column.event",
        "dashboard.column.mrr_impact",
        "dashboard.column.mrr_after",
        "dashboard.column.occurred",
    )
    OPTIONAL = (4, 2)  # occurred, MRR impact
    EMPTY = ("dashboard.empty.billing_events", "dashboard.empty.billing_events_description")

    def __init__(self) -> None:
        super().__init__(t("dashboard.recent.billing_events"), id="recent-billing-events")

    def fetch(self, conn: Connection, request: CardRequest) -> RecentItems[RecentBillingEvent]:
        return recent_billing_events(conn)

    def row_key(self, item: RecentBillingEvent) -> str:
        return item.id

    def cells(self, item: RecentBillingEvent) -> tuple[str | Text, ...]:
        delta = item.amount_delta
        impact_style = "red" if delta is not None and delta < 0 else ""
        return (
            item.tenant_name,
            t(f"enum.event.{item.type}"),
            Text(signed_money(delta, item.currency), style=impact_style, justify="right"),
            Text(money(item.committed_mrr, item.currency), justify="right"),
            ago(item.occurred_at, self.now()),
        )

    def target(self, item: RecentBillingEvent) -> tuple[str, dict[str, Any]]:
        return ("account", {"tenant_id": item.tenant_id, "tab": "billing-events"})
