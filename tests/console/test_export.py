"""`e` on a list: the list as queried (search, filters, sort), every page, to a
CSV file in a worker, with a progress dialog that can cancel
(docs/rules.md R143)."""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, ProgressBar, Static

from console.app import BackofficeApp
from console.screens.accounts import AccountsList, AccountsScreen
from console.screens.invoices import InvoicesList
from console.widgets.export_dialog import EXPORT_DIR_ENV, ExportDialog, export_path
from console.widgets.paged_list import PagedList
from core import export
from core.account_detail import Payment
from core.accounts import AccountRow
from core.invoices import InvoiceRow
from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    WIDE,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    settled,
)


@pytest.fixture
def export_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path))
    return tmp_path


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as file:
        lines = list(csv.reader(file))
    return lines[0], [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


def notices(app: BackofficeApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def test_every_list_knows_its_row_type() -> None:
    assert AccountsList.row_type() is AccountRow
    assert InvoicesList.row_type() is InvoiceRow
    for list_class in _subclasses(PagedList):
        assert export.columns(list_class.row_type())  # a record, so its columns are known


def _subclasses(cls: type) -> list[type]:
    import console.screens.account_tabs  # noqa: F401  (every list class loaded)
    import console.screens.billing_events  # noqa: F401
    import console.screens.user  # noqa: F401
    import console.screens.users  # noqa: F401

    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_export_path_is_stamped_and_never_overwrites(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 5, 14, 15, 2, tzinfo=UTC)
    first = export_path("accounts", moment, tmp_path)
    assert first == tmp_path / "accounts-20261205-141502.csv"
    first.write_text("taken")
    assert export_path("accounts", moment, tmp_path) == tmp_path / "accounts-20261205-141502-2.csv"


async def test_e_exports_the_filtered_sorted_list(
    make_lists_app: Callable[..., BackofficeApp], export_dir: Path
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("accounts", search="s", sort="mrr", descending=True)
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        shown = [row.id for row in screen.paged_list.result.items]
        assert 1 < len(shown) < 7  # the search narrowed the list
        await pilot.press("e")
        await settled(pilot, DEBOUNCE)
        (written,) = sorted(export_dir.iterdir())
        assert written.name.startswith("accounts-") and written.suffix == ".csv"
        header, rows = read_csv(written)
        assert tuple(header) == export.columns(AccountRow)
        assert [row["id"] for row in rows] == shown  # same rows, same order
        assert any(str(written) in message and f"{len(shown)} rows" in message for message in notices(app))
        assert not isinstance(app.screen, ExportDialog)  # a quick export never shows the dialog for long


async def test_e_on_an_account_tab_exports_that_tab(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform, export_dir: Path
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id=str(platform.nordlys.id))
        await settled(pilot, DEBOUNCE)
        await pilot.press("3")  # invoices
        await settled(pilot)
        payments = app.screen.query_one("#account-invoices", PagedList)
        assert payments.result is not None
        await pilot.press("e")
        await settled(pilot, DEBOUNCE)
        (written,) = export_dir.iterdir()
        assert written.name.startswith(f"payments-{platform.nordlys.id}-")
        header, rows = read_csv(written)
        assert tuple(header) == export.columns(Payment)
        assert [row["id"] for row in rows] == [item.id for item in payments.result.items]
        assert len(rows) == payments.result.total == 8


async def test_cancel_stops_the_export_and_leaves_no_file(
    make_lists_app: Callable[..., BackofficeApp], export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_fetch = AccountsList.fetch

    def slow_fetch(self: AccountsList, conn: Any, query: Any, page: Any) -> Any:
        if page.page_size == export.MAX_PAGE_SIZE:  # the export's pages, not the screen's
            release.wait(5)
        return real_fetch(self, conn, query, page)

    monkeypatch.setattr(AccountsList, "fetch", slow_fetch)
    monkeypatch.setattr(AccountsList, "EXPORT_DIALOG_DELAY", 0.01)
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot, DEBOUNCE)
        await pilot.press("e")
        await pilot.pause(0.1)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert str(export_dir) in plain(dialog.query_one("#export-path", Static))
        assert app.focused is dialog.query_one("#cancel", Button)
        await pilot.press("escape")
        release.set()
        await settled(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert list(export_dir.iterdir()) == []  # neither the file nor its .part
        assert "Export canceled; no file was written." in notices(app)


async def test_dialog_counts_rows_against_the_total(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        dialog = ExportDialog(Path("/exports/accounts-20261205-141502.csv"))
        await app.push_screen(dialog)
        dialog.progress(250, 1000)
        await pilot.pause()
        bar = dialog.query_one(ProgressBar)
        assert (bar.progress, bar.total) == (250, 1000)
        assert plain(dialog.query_one("#export-count", Static)) == "250 of 1,000 rows written"
        dialog.progress(40, None)  # an estimated total: a count, no bar to fill
        await pilot.pause()
        assert bar.total is None and plain(dialog.query_one("#export-count", Static)) == "40 rows written"


def test_snapshot_export_progress_dialog(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot, DEBOUNCE)
        dialog = ExportDialog(Path("/home/operator/Downloads/accounts-20261205-141502.csv"))
        await pilot.app.push_screen(dialog)
        dialog.progress(2_500, 10_000)
        await pilot.pause()

    assert snap_compare(make_lists_app(), terminal_size=(80, 24), run_before=run_before)
