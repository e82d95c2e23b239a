"""Switching the language at run time from the operator menu (docs/rules.md R131):
every screen again in the new language, remembered per machine unless
`--locale` chose the run's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static, TabbedContent

from console import i18n, preferences
from console.app import BackofficeApp
from console.widgets.charts import Chart
from console.widgets.search_box import SearchBox
from core.settings import Settings
from tests.cli_run import run_cli_captured
from tests.console.conftest import settle
from tests.factories import NOW

NARROW = (80, 24)
NBSP = "\xa0"


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The active locale is the process's: leave it as the other tests expect."""
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


async def _switch_language(pilot: Pilot[Any]) -> str:
    """Choose the operator menu's language entry; returns the entry's text."""
    await settle(pilot)
    await pilot.press("o")
    await pilot.pause()
    menu = pilot.app.screen.query_one("#operator-menu", OptionList)
    index = menu.get_option_index("locale")
    entry = str(menu.get_option_at_index(index).prompt)
    menu.highlighted = index
    await pilot.press("enter")
    await settle(pilot)
    return entry


def _header(app: BackofficeApp) -> str:
    return str(app.screen.query_one("#header-title", Static).render())


def _subtitles(app: BackofficeApp) -> list[str]:
    return [str(subtitle.render()) for subtitle in app.screen.query(".card-subtitle")]


def _columns(app: BackofficeApp) -> list[str]:
    return [str(column.label) for column in app.screen.query_one("#list-table", DataTable).columns.values()]


def _app(engine: Engine, *, locale: str = "en-US", locale_given: bool) -> BackofficeApp:
    return BackofficeApp(
        settings=Settings(locale=locale, operator="operator"),
        engine=engine,
        now=NOW,
        locale_given=locale_given,
    )


async def test_the_operator_menu_switches_every_screen(seeded_engine: Engine) -> None:
    app = _app(seeded_engine, locale_given=False)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("a")  # the accounts list exists, in its own mode, before the switch
        await settle(pilot)
        assert _columns(app) == ["Name ↑", "Plan", "MRR", "Status"]
        await pilot.press("d")
        await settle(pilot)
        assert "DKK 597.00 blended · +33.3% over period" in _subtitles(app)

        assert await _switch_language(pilot) == "Language: English (US) → Dansk"

        assert i18n.current_locale() == "da-DK"
        assert app.settings.locale == "da-DK"
        subtitles = _subtitles(app)
        assert f"597,00{NBSP}kr. samlet · +33,3% over perioden" in subtitles
        assert "7 konti" in subtitles
        assert str(app.screen.query_one("#mrr-trend .card-title", Static).render()) == "MRR-tendens"
        assert "Hjælp" in {active.binding.description for active in app.screen.active_bindings.values()}
        assert preferences.load().locale == "da-DK"  # remembered on this machine

        await pilot.press("a")
        await settle(pilot)
        assert _header(app) == "Back Office · Konti"
        assert _columns(app) == ["Navn ↑", "Plan", "MRR", "Status"]
        first = app.screen.query_one("#list-table", DataTable).get_row_at(0)
        assert str(first[2]) == f"299,00{NBSP}kr. → 0,00{NBSP}kr."

        assert await _switch_language(pilot) == "Sprog: Dansk → English (US)"
        assert _header(app) == "Back Office · Accounts"
        assert _columns(app) == ["Name ↑", "Plan", "MRR", "Status"]
        assert preferences.load().locale == "en-US"


async def test_a_list_keeps_its_search_across_a_switch(seeded_engine: Engine) -> None:
    app = _app(seeded_engine, locale_given=False)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        app.navigate("accounts", search="Nordlys")
        await settle(pilot)
        table = app.screen.query_one("#list-table", DataTable)
        assert table.row_count == 1
        await _switch_language(pilot)
        assert app.screen.query_one(SearchBox).value == "Nordlys"
        table = app.screen.query_one("#list-table", DataTable)
        assert table.row_count == 1
        assert "Nordlys ApS" in str(table.get_row_at(0)[0])


async def test_a_restart_remembers_the_language(seeded_engine: Engine) -> None:
    preferences.update(locale="da-DK")
    app = _app(seeded_engine, locale_given=False)  # BACKOFFICE_LOCALE or the default: en-US
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert i18n.current_locale() == "da-DK"
        assert f"597,00{NBSP}kr. samlet · +33,3% over perioden" in _subtitles(app)


async def test_with_locale_given_the_menu_switches_for_the_run_only(seeded_engine: Engine) -> None:
    preferences.update(locale="da-DK")
    app = _app(seeded_engine, locale="en-US", locale_given=True)  # --locale en-US
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert i18n.current_locale() == "en-US"  # --locale wins over the remembered Danish
        assert "DKK 597.00 blended · +33.3% over period" in _subtitles(app)
        await _switch_language(pilot)
        await _switch_language(pilot)
        assert i18n.current_locale() == "en-US"
        await _switch_language(pilot)
        assert i18n.current_locale() == "da-DK"  # switched for the run...
        assert f"597,00{NBSP}kr. samlet · +33,3% over perioden" in _subtitles(app)
    assert preferences.load().locale == "da-DK"  # ...and the remembered choice stays


def test_preferences_keep_the_locale(config_dir: Path) -> None:
    assert preferences.load().locale == ""
    preferences.update(locale="da-DK")
    assert preferences.load().locale == "da-DK"
    (config_dir / "preferences.json").write_text('{"locale": 7}')
    assert preferences.load().locale == ""


@pytest.mark.parametrize(
    ("args", "given", "locale"),
    [
        (["console"], False, "da-DK"),  # the remembered choice, over BACKOFFICE_LOCALE
        (["--locale", "en-US", "console"], True, "en-US"),
        (["console", "--locale", "en-us"], True, "en-US"),
    ],
)
def test_the_command_line_locale_wins(
    args: list[str],
    given: bool,
    locale: str,
    console_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    preferences.update(locale="da-DK")
    started: list[BackofficeApp] = []
    monkeypatch.setattr("console.cli.commands._run_until_signalled", started.append)
    code, _, err = run_cli_captured(
        ["--database-url", console_database_url, *args],
        monkeypatch,
        capsys,
        BACKOFFICE_LOCALE="en-US",
        BACKOFFICE_CONFIG_DIR=str(preferences.config_dir()),
    )
    assert code == 0, err
    [app] = started
    assert app.locale_given is given
    assert app.settings.locale == locale
    assert i18n.current_locale() == locale


def test_dashboard_after_switching_to_danish(snap_compare: Any, seeded_engine: Engine) -> None:
    assert snap_compare(_app(seeded_engine, locale_given=False), terminal_size=NARROW, run_before=_switch_language)


async def test_help_says_how_the_language_is_chosen(seeded_engine: Engine) -> None:
    app = _app(seeded_engine, locale_given=False)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help-language", Static).render())
        assert "--locale wins for its run" in text
        assert "remembers the choice on this machine" in text


async def test_an_open_account_follows_the_switch_on_its_tab(seeded_engine: Engine) -> None:
    app = _app(seeded_engine, locale_given=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.navigate("accounts", search="Nordlys")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("3")  # the invoices tab
        await settle(pilot)
        tabs = app.screen.query_one("#account-tabs", TabbedContent)
        assert tabs.active == "invoices"
        screen = app.screen

        await _switch_language(pilot)

        assert app.screen is screen  # the same account, not a new screen
        tabs = app.screen.query_one("#account-tabs", TabbedContent)
        assert tabs.active == "invoices"
        labels = [str(tab.label) for tab in app.screen.query("#account-tabs Tab")]
        assert "Fakturaer" in labels and "Oversigt" in labels
        invoices = app.screen.query_one("#account-tabs #invoices DataTable", DataTable)
        assert invoices.row_count > 0
        assert "kr." in str(invoices.get_row_at(0))


async def test_a_chart_reads_out_in_the_new_language(seeded_engine: Engine) -> None:
    app = _app(seeded_engine, locale_given=False)
    async with app.run_test(size=NARROW) as pilot:
        await _switch_language(pilot)
        for _ in range(40):
            await pilot.press("tab")
            if isinstance(app.focused, Chart) and app.focused.labels and app.focused.kind == "line":
                break
        await pilot.pause()
        readout = app.screen.query_one("#mrr-trend .chart-readout", Static)
        assert str(readout.render()) == (
            f"8. maj 2026  MRR 597,00{NBSP}kr.  Forrige periode 448,00{NBSP}kr.  Ændring +33,3%"
        )
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#mrr-trend .chart-table", DataTable)
        assert [str(column.label) for column in table.columns.values()] == ["Dato", "MRR", "Forrige periode", "Ændring"]
