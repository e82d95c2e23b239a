"""The platform-wide billing event log (docs/figures.md#billing-events, docs/rules.md R97:
search, type multi-select and period, plus the view presets).

Toolbar: search by account, the view presets (`v`), the period (`p`, 7/30/90
days); `f` picks event types. Sorted by date (newest first), event type or
account (docs/rules.md R113): `>`/`<` and `I`, or a header click; the header
and the status line say the sort. Enter opens the account on its Billing
events tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult

from console.formatting import money, short_datetime
from console.i18n import t
from console.screens.list_screen import ListScreen
from console.widgets.badges import event_badge, plan_transition, signed_money_text
from console.widgets.columns import (
    PREFIXED_ID_WIDTH,
    datetime_width,
    event_width,
    money_width,
    signed_money_width,
    transition_width,
)
from console.widgets.filter_dialog import FilterGroup
from console.widgets.paged_list import Cell, Column, PagedList
from console.widgets.period import DEFAULT_PERIOD, PeriodSelector, next_period
from console.widgets.view_pills import ViewPills
from core.billing_events import BillingEventPreset, BillingEventRow, BillingEventSort, list_billing_events
from core.paging import Page, PageRequest
from db.enums import BillingEventType


@dataclass(frozen=True)
class BillingEventQuery:
    search: str
    types: tuple[BillingEventType, ...]
    preset: BillingEventPreset
    period: int
    now: datetime
    sort: BillingEventSort = BillingEventSort.date
    descending: bool = True
    type_order: tuple[BillingEventType, ...] = ()  # the type sort's order: by the labels on screen


class BillingEventsList(PagedList[BillingEventQuery, BillingEventRow]):
    COLUMNS = (
        Column("occurred", "billing.column.date", width=datetime_width, sort=BillingEventSort.date),
        Column(
            "event",
            "billing.column.event",
            width=17,
            max_width=event_width,
            flex=True,
            sort=BillingEventSort.event_type,
        ),
        Column("account", "billing.column.account", width=20, flex=True, sort=BillingEventSort.tenant_name),
        Column("plan", "billing.column.plan", width=transition_width, drop=2),
        Column("impact", "billing.column.impact", width=signed_money_width, justify="right", cut=False),
        Column("after", "billing.column.after", width=money_width, justify="right", drop=3, cut=False),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=4),
    )
    NOUN = "billing.count"
    ORDER = "list.order.newest_first"

    def fetch(self, conn: Connection, query: BillingEventQuery, page: PageRequest) -> Page[BillingEventRow]:
        return list_billing_events(
            conn,
            now=query.now,
            search=query.search,
            types=query.types,
            preset=query.preset,
            period_days=query.period,
            sort=query.sort,
            descending=query.descending,
            type_order=query.type_order,
            page=page,
            estimate_large_total=True,
        )

    def row_key(self, item: BillingEventRow) -> str:
        return item.id

    def cells(self, item: BillingEventRow) -> tuple[Cell, ...]:
        return (
            short_datetime(item.occurred_at),
            event_badge(item.event_type),
            item.tenant_name,
            plan_transition(item.event_type, item.from_plan, item.to_plan),
            signed_money_text(item.amount_delta, item.currency),
            Text(money(item.committed_mrr, item.currency), style="dim", justify="right"),
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        screen = self.screen
        if isinstance(screen, BillingEventsScreen) and screen.has_filters():
            return (t("billing.empty_filtered"), t("billing.empty_filtered_hint"))
        return (t("billing.empty"), t("billing.empty_hint"))


PRESETS = tuple(BillingEventPreset)


def labelled_order() -> tuple[BillingEventType, ...]:
    """Every event type in the order of its label in the locale (docs/rules.md R113)."""
    return tuple(sorted(BillingEventType, key=lambda kind: (t(f"enum.event.{kind}").casefold(), kind.value)))


class BillingEventsScreen(ListScreen):
    NAME = "billing_events"
    TITLE_KEY = "menu.billing_events"
    KEY_SCOPES = ("list", "sort", "period", "views")
    SEARCH_PLACEHOLDER = "billing.search"
    DEFAULT_SORT = BillingEventSort.date
    DEFAULT_DESCENDING = True

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.types: frozenset[BillingEventType] = frozenset()
        self.preset = BillingEventPreset.all
        self.period = DEFAULT_PERIOD

    def compose_toolbar(self) -> ComposeResult:
        yield ViewPills(
            t("billing.view"),
            [(preset.value, t(f"billing.preset.{preset.name}")) for preset in PRESETS],
            self.preset.value,
            id="billing-view",
        )
        yield PeriodSelector(id="billing-period")

    def make_list(self) -> BillingEventsList:
        return BillingEventsList(id="billing-events-list")

    def current_query(self) -> BillingEventQuery:
        return BillingEventQuery(
            search=self.search,
            types=tuple(kind for kind in BillingEventType if kind in self.types),
            preset=self.preset,
            period=self.period,
            now=self.backoffice.clock(),
            sort=BillingEventSort(self.sort or BillingEventSort.date),
            descending=self.descending,
            type_order=labelled_order(),
        )

    def apply_navigation(self, params: dict[str, Any]) -> None:
        if "search" in params:
            self.search = str(params["search"])
        if "preset" in params:
            self.preset = BillingEventPreset(params["preset"])
        if "period" in params:
            self.period = int(params["period"])
        if params.get("sort") in set(BillingEventSort):
            self.sort = BillingEventSort(params["sort"])
            self.descending = bool(params.get("descending", self.sort is BillingEventSort.date))

    def filter_groups(self) -> list[FilterGroup]:
        return [
            FilterGroup(
                "types",
                t("billing.filter.types"),
                [(kind.value, t(f"enum.event.{kind}")) for kind in BillingEventType],
                frozenset(kind.value for kind in self.types),
            )
        ]

    def set_filter(self, key: str, values: frozenset[str]) -> None:
        if key == "types":
            self.types = frozenset(BillingEventType(value) for value in values)

    def clear_filters(self) -> None:
        super().clear_filters()
        self.types = frozenset()
        self.preset = BillingEventPreset.all

    def filter_summary(self) -> str:
        if not self.types:
            return ""
        names = ", ".join(t(f"enum.event.{kind}") for kind in BillingEventType if kind in self.types)
        return f"{escape(t('billing.filter.types'))}: [b]{escape(names)}[/b]  [dim]{escape(t('accounts.filter.clear_hint'))}[/dim]"

    def has_filters(self) -> bool:
        return super().has_filters() or self.preset is not BillingEventPreset.all

    def reload_list(self, *, page: int = 1) -> None:
        self.query_one(ViewPills).value = self.preset.value
        self.query_one(PeriodSelector).period = self.period
        super().reload_list(page=page)

    # -- keys and toolbar ----------------------------------------------------

    def action_cycle_period(self) -> None:
        self.period = next_period(self.period)
        self.reload_list()

    def on_period_selector_chosen(self, message: PeriodSelector.Chosen) -> None:
        self.period = message.days
        self.reload_list()

    def action_cycle_view(self) -> None:
        self.preset = BillingEventPreset(self.query_one(ViewPills).following())
        self.reload_list()

    def on_view_pills_chosen(self, message: ViewPills.Chosen) -> None:
        self.preset = BillingEventPreset(message.value)
        self.reload_list()

    def open_item(self, item: BillingEventRow) -> None:
        self.backoffice.navigate("account", tenant_id=item.tenant_id, tab="billing-events")
