"""The dashboard's "MRR movements" card (docs/figures.md#mrr-movements,
docs/rules.md R150): MRR at the period's start → at its end in the subtitle,
then new, expansion and reactivation (gains, green, "▲"), contraction and
churn (losses, red, "▼") and the net change they add up to. The figures are
core's `mrr_movements`, loaded in the card's worker like every dashboard card;
the CLI twin is `backoffice report mrr-movements`."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.widgets import Static

from console.formatting import money, signed_money
from console.i18n import t
from console.widgets.cards import CardRequest, DataCard
from core.currency import platform_currency
from core.dashboard.movements import MrrMovements, mrr_movements

GAIN_STYLE = "green"
LOSS_STYLE = "red"
IDLE_STYLE = "dim"


def movement_rows(data: MrrMovements) -> list[tuple[str, str, str]]:
    """(label, amount, style) per line: gains with "+", losses with "-"."""

    def gain(key: str, amount: Decimal) -> tuple[str, str, str]:
        style = GAIN_STYLE if amount else IDLE_STYLE
        return (f"▲ {t(key)}", signed_money(amount, data.currency), style)

    def loss(key: str, amount: Decimal) -> tuple[str, str, str]:
        style = LOSS_STYLE if amount else IDLE_STYLE
        return (f"▼ {t(key)}", money(-amount if amount else amount, data.currency), style)

    net = data.net_change
    return [
        gain("dashboard.movements.new", data.new_mrr),
        gain("dashboard.movements.expansion", data.expansion_mrr),
        gain("dashboard.movements.reactivation", data.reactivation_mrr),
        loss("dashboard.movements.contraction", data.contraction_mrr),
        loss("dashboard.movements.churn", data.churned_mrr),
        (
            f"= {t('dashboard.movements.net')}",
            signed_money(net, data.currency),
            f"bold {GAIN_STYLE}" if net > 0 else f"bold {LOSS_STYLE}" if net < 0 else "bold",
        ),
    ]


class MrrMovementsCard(DataCard[CardRequest, MrrMovements]):
    def __init__(self) -> None:
        super().__init__(t("dashboard.movements.title"), id="mrr-movements")

    def compose_content(self) -> ComposeResult:
        yield Static("", classes="movements-table")
        note = Static("", classes="movements-note card-error")
        note.display = False
        yield note

    def fetch(self, conn: Connection, request: CardRequest) -> MrrMovements:
        return mrr_movements(conn, request.period, request.now, platform_currency(conn))

    def shows_no_data(self, data: MrrMovements) -> bool:
        return data.is_empty

    def empty_message(self) -> tuple[str, str]:
        return (t("dashboard.movements.empty"), t("dashboard.movements.empty_description"))

    def show_data(self, data: MrrMovements) -> None:
        start = money(data.start_monthly_recurring_revenue, data.currency)
        end = money(data.end_monthly_recurring_revenue, data.currency)
        self.set_subtitle(t("dashboard.movements.subtitle", start=start, end=end, days=data.period))
        table = Table.grid(expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        for label, amount, style in movement_rows(data):
            table.add_row(Text(label, style=style), Text(amount, style=style))
        self.query_one(".movements-table", Static).update(table)
        note = self.query_one(".movements-note", Static)
        note.display = not data.reconciles
        if not data.reconciles:
            total = data.start_monthly_recurring_revenue + data.net_change
            note.update(Text(t("dashboard.movements.unreconciled", sum=money(total, data.currency), end=end)))
