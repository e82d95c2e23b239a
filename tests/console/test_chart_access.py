"""Accessible charts (docs/rules.md R130): Tab focuses a dashboard chart, the
cursor keys move over its days or bars with a readout line under it, and `t`
shows its figures as a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.app import BackofficeApp
from console.screens.help import keys_table
from console.widgets.charts import Chart
from console.widgets.trend_cards import MrrTrendCard, UserLoginsCard
from tests.console.conftest import settle

NARROW = (80, 24)


async def _tab_to(pilot: Pilot[Any], card_id: str) -> Chart:
    """Tab until the chart of card `card_id` has the focus."""
    await settle(pilot)
    for _ in range(40):
        await pilot.press("tab")
        focused = pilot.app.focused
        if isinstance(focused, Chart) and focused.parent is not None and _card_id(focused) == card_id:
            await pilot.pause()
            return focused
    raise AssertionError(f"Tab never reached the chart of #{card_id}")


def _card_id(chart: Chart) -> str | None:
    node = chart.parent
    while node is not None and "card" not in node.classes:
        node = node.parent
    return None if node is None else node.id


def _row(table: DataTable[Any], index: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(index)]


def _readout(app: BackofficeApp, card_id: str) -> str:
    readout = app.screen.query_one(f"#{card_id} .chart-readout", Static)
    return str(readout.render()) if readout.display else ""


MAY_8 = "May 8, 2026  MRR DKK 597.00  Prior period DKK 448.00  Change +33.3%"
MAY_6 = "May 6, 2026  MRR DKK 597.00  Prior period DKK 448.00  Change +33.3%"
APRIL_9 = "Apr 9, 2026  MRR DKK 448.00  Prior period DKK 299.00  Change +49.8%"


async def test_tab_focuses_a_chart_and_the_cursor_reads_out(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        assert _readout(app, "mrr-trend") == ""  # no readout until the chart has the focus
        chart = await _tab_to(pilot, "mrr-trend")
        assert chart.cursor == 29  # the latest of the 30 days
        assert _readout(app, "mrr-trend") == MAY_8
        assert app.screen.query_one("#mrr-trend").has_class("-interactive")

        await pilot.press("left", "h")
        await pilot.pause()
        assert _readout(app, "mrr-trend") == MAY_6
        await pilot.press("l", "right")
        await pilot.pause()
        assert _readout(app, "mrr-trend") == MAY_8
        await pilot.press("right")  # past the last day: stays there
        await pilot.pause()
        assert chart.cursor == 29
        await pilot.press("home")
        await pilot.pause()
        assert chart.cursor == 0
        assert _readout(app, "mrr-trend") == APRIL_9
        await pilot.press("end")
        await pilot.pause()
        assert _readout(app, "mrr-trend") == MAY_8

        await pilot.press("tab")  # leaving the chart hides the readout, the cursor stays
        await pilot.pause()
        assert _readout(app, "mrr-trend") == ""
        assert chart.cursor == 29


async def test_t_shows_every_point_as_a_table_and_back(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        chart = await _tab_to(pilot, "mrr-trend")
        await pilot.press("home")
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#mrr-trend .chart-table", DataTable)
        assert table.display and not chart.display
        assert app.focused is table
        assert [str(column.label) for column in table.columns.values()] == ["Date", "MRR", "Prior period", "Change"]
        assert table.row_count == 30  # every day of the period
        assert _row(table, 0) == ["Apr 9, 2026", "DKK 448.00", "DKK 299.00", "+49.8%"]
        assert _row(table, 29) == ["May 8, 2026", "DKK 597.00", "DKK 448.00", "+33.3%"]
        assert table.cursor_row == 0  # where the chart's cursor was
        assert _readout(app, "mrr-trend") == ""

        await pilot.press("down", "down")
        card = app.screen.query_one("#mrr-trend", MrrTrendCard)
        assert card.data is not None
        card.show_data(card.data)  # a refresh round: the table keeps its row
        await pilot.pause()
        assert table.cursor_row == 2
        await pilot.press("t")
        await pilot.pause()
        assert chart.display and not table.display
        assert app.focused is chart
        assert chart.cursor == 2  # the table's row
        assert _readout(app, "mrr-trend").startswith("Apr 11, 2026  MRR")


async def test_the_logins_table_has_the_failed_sign_ins_too(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        await _tab_to(pilot, "user-logins")
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#user-logins .chart-table", DataTable)
        assert [str(column.label) for column in table.columns.values()] == [
            "Date",
            "Successful",
            "Prior period",
            "Change",
            "Failed",
        ]
        assert table.row_count == 30
        data = app.screen.query_one("#user-logins", UserLoginsCard).data
        assert data is not None
        assert [_row(table, i)[4] for i in range(30)] == [str(p.failed) for p in data.points]


async def test_a_bar_chart_steps_over_its_bars(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        chart = await _tab_to(pilot, "plan-distribution")
        assert chart.labels == ["Basis", "Standard", "Premium"]  # bottom to top
        assert _readout(app, "plan-distribution") == "Premium  Accounts 2  Share 28.6%"
        await pilot.press("left")
        await pilot.pause()
        assert _readout(app, "plan-distribution") == "Standard  Accounts 3  Share 42.9%"
        await pilot.press("left", "left")
        await pilot.pause()
        assert _readout(app, "plan-distribution") == "Basis  Accounts 2  Share 28.6%"
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#plan-distribution .chart-table", DataTable)
        assert [_row(table, i) for i in range(table.row_count)] == [
            ["Basis", "2", "28.6%"],
            ["Standard", "3", "42.9%"],
            ["Premium", "2", "28.6%"],
        ]


async def test_the_wall_charts_take_no_focus(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app(kiosk=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        charts = list(app.screen.query(Chart))
        assert charts
        assert not any(chart.can_focus for chart in charts)
        assert not app.screen.query(".card.-interactive")
        assert not app.screen.query(".chart-table") and not app.screen.query(".chart-readout")


def test_help_lists_the_chart_keys() -> None:
    table = keys_table(admin=False)
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "A dashboard chart (Tab focuses it)" in text
    for key, description in (
        ("← h", "Cursor to the previous day or bar"),
        ("→ l", "Cursor to the next day or bar"),
        ("home", "Cursor to the first day or bar"),
        ("end", "Cursor to the last day or bar"),
        ("t", "Show the chart's figures as a table, and back"),
    ):
        assert any(key in line and description in line for line in text.splitlines()), key


async def _laid_out(pilot: Pilot[Any]) -> None:
    """Until the dashboard's scroll holds still: Tab scrolls the focused card
    into view with an animation, and the scroll bar in a snapshot shows where
    the animation was."""
    previous = None
    for _ in range(40):
        geometry = [(w.virtual_size, w.scroll_x, w.scroll_y) for w in pilot.app.screen.query("*") if w.is_scrollable]
        if geometry == previous:
            return
        previous = geometry
        await pilot.wait_for_animation()
        await pilot.pause(0.05)


async def _focused_chart(pilot: Pilot[Any]) -> None:
    await _tab_to(pilot, "mrr-trend")
    await pilot.press("left", "left")
    await settle(pilot)
    await _laid_out(pilot)


async def _table_view(pilot: Pilot[Any]) -> None:
    await _focused_chart(pilot)
    await pilot.press("t")
    await settle(pilot)


# 80 columns, and tall enough that the focused chart needs no scrolling: at 24
# rows Tab scrolls the card into view with an animation, and where the scroll
# bar stands when the snapshot is taken varies from run to run.
TALL_NARROW = (80, 50)


def test_snapshot_focused_chart_at_80_columns(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(), terminal_size=TALL_NARROW, run_before=_focused_chart)


def test_snapshot_chart_table_at_80_columns(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(), terminal_size=TALL_NARROW, run_before=_table_view)
