"""A list sets each column's width itself when it paints (after a terminal
resize too), wide enough for every cell it shows: the table's own measuring
can lag a repaint, which left cells cut at their header's width."""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len

from console.app import BackofficeApp
from console.screens.account_tabs import AccountEventsPreview, PaymentsPreview
from console.widgets.page_table import cell_width
from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    lists_database,
    lists_engine,
    make_lists_app,
    platform,
    quiet_dashboard,
    settled,
)


async def test_previews_fit_their_cells_after_a_resize(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id=str(platform.nordlys.id))
        await settled(pilot, DEBOUNCE)
        narrow = {preview: len(preview.table.columns) for preview in app.screen.query(PaymentsPreview)}
        await pilot.resize_terminal(160, 45)
        await settled(pilot, DEBOUNCE)
        for preview in [*app.screen.query(PaymentsPreview), *app.screen.query(AccountEventsPreview)]:
            table = preview.table
            assert len(table.columns) >= narrow.get(preview, 0)
            for column in table.columns.values():
                cells = table.get_column(column.key)
                widest = max([cell_len(column.label.plain), *(cell_width(cell) for cell in cells)])
                assert not column.auto_width and column.width >= widest, (column.label.plain, column.width, widest)
