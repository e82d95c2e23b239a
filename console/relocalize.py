"""Switching the console's language while it runs (docs/rules.md R131).

The operator menu's language entry calls `switch_language(app, locale)`:

1. `console/i18n.py` speaks the new locale, so every later `t()` and every
   figure of console/formatting.py (numbers, money, dates) follows it.
2. The choice is remembered in the machine's preferences, like the theme,
   unless `--locale` chose this run's language: then the switch holds for
   this run only and the remembered choice stays as it was.
3. The app's title and key descriptions, and every screen of every mode's
   stack (the section screens keep their state on the screen instance), are
   built again: bindings re-described, the widgets composed again, and what
   the screen shows loaded again in its workers (the dashboard's round, a
   list's page with its search, filters and sort, a detail and its tab).
   Dialogs are left alone: they are built when opened.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen, Screen
from textual.widgets import TabbedContent

from console import i18n, keys, preferences
from console.i18n import t
from console.screens.base import BackofficeScreen
from console.screens.dashboard import DashboardScreen
from console.screens.detail_screen import DetailScreen
from console.screens.list_screen import ListScreen
from console.widgets.period import PeriodSelector

if TYPE_CHECKING:
    from console.app import BackofficeApp


async def switch_language(app: BackofficeApp, locale: str) -> None:
    i18n.set_locale(locale)
    app.settings = replace(app.settings, locale=locale)
    name = i18n.locale_name(locale)
    if app.locale_given:
        app.notify(t("language.switched_for_run", name=name), timeout=4)
    else:
        try:
            preferences.update(locale=locale)
        except OSError as error:
            app.notify(t("preferences.save_failed", error=error), severity="error")
        app.notify(t("language.switched", name=name), timeout=4)
    app.title = t("app.title")
    keys.retranslate(app)
    app._translate_textual_palette_binding()
    for screen in every_screen(app):
        await relocalize_screen(screen)
    app.refresh_bindings()


def every_screen(app: BackofficeApp) -> list[Screen[Any]]:
    """The screens of every mode's stack, the visible stack's first."""
    stacks: dict[str, list[Screen[Any]]] = app._screen_stacks
    current = list(app.screen_stack)
    others = [screen for mode, stack in stacks.items() if mode != app.current_mode for screen in stack]
    return current + [screen for screen in others if screen not in current]


async def relocalize_screen(screen: Screen[Any]) -> None:
    keys.retranslate(screen)
    if isinstance(screen, ModalScreen) or not screen.is_attached:
        return
    page = screen.paged_list.page if isinstance(screen, ListScreen) and screen.query("PagedList") else 1
    if isinstance(screen, DetailScreen):
        tabs = screen.query(TabbedContent)
        if tabs and tabs.first().active:
            screen.params = {**screen.params, "tab": tabs.first().active}
    await screen.recompose()
    title = screen.screen_title() if isinstance(screen, BackofficeScreen) else ""
    screen.sub_title = title
    if screen is screen.app.screen:
        screen.app.sub_title = title
    if isinstance(screen, DashboardScreen):
        screen.query_one(PeriodSelector).period = screen.period
        screen.reload_all()
    elif isinstance(screen, ListScreen):
        screen.reload_list(page=page)
    elif isinstance(screen, DetailScreen):
        screen.load()
