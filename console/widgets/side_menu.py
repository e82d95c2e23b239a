"""The side menu (docs/figures.md#header-side-menu-and-operator-menu): Dashboard, Accounts, Users; Billing: Invoices,
Billing events; Coming soon: Feature flags, Support, Wait list.

Folded (`app.menu_rail`: below 100 columns by itself, or ctrl+b) it is a rail
of the items' keys, five columns wide, so an 80-column terminal keeps its
width for the figures."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.app_access import backoffice
from console.i18n import t

# (group label key or None, [(screen name, label key, key hint)])
MENU: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "menu.navigation",
        (
            ("dashboard", "menu.dashboard", "d"),
            ("accounts", "menu.accounts", "a"),
            ("users", "menu.users", "u"),
        ),
    ),
    (
        "menu.billing",
        (
            ("invoices", "menu.invoices", "i"),
            ("billing_events", "menu.billing_events", "b"),
        ),
    ),
    (
        "menu.coming_soon",
        (
            ("feature_flags", "menu.feature_flags", ""),
            ("support", "menu.support", ""),
            ("wait_list", "menu.wait_list", ""),
        ),
    ),
)


def _item(label: str, key_hint: str) -> Text:
    text = Text(label)
    if key_hint:
        text.append(f" {key_hint}", style="dim")
    return text


def _options(rail: bool) -> list[Option | None]:
    """The menu's lines: group headings and items with their keys, or on the
    rail each item's key alone ("·" for one without), groups apart."""
    options: list[Option | None] = []
    for group_key, items in MENU:
        if options:
            options.append(None)
        if not rail:
            options.append(Option(Text(t(group_key), style="bold"), id=f"group:{group_key}", disabled=True))
        for name, label_key, key_hint in items:
            label = Text(key_hint or "·", style="" if key_hint else "dim") if rail else _item(t(label_key), key_hint)
            options.append(Option(label, id=name))
    return options


class SideMenu(OptionList):
    """Selecting an item opens its screen; the active screen's item is highlighted."""

    def __init__(self, active: str) -> None:
        super().__init__(*_options(rail=False), id="side-menu")
        self.active = active
        self.rail = False
        self.border_title = t("menu.label")

    def on_mount(self) -> None:
        self.watch(self.app, "menu_rail", self.fold, init=True)
        self.mark_active(self.active)

    def fold(self, rail: bool) -> None:
        if rail == self.rail:
            return
        self.rail = rail
        self.set_class(rail, "-rail")
        self.clear_options()
        self.add_options(_options(rail))
        self.mark_active(self.active)

    def mark_active(self, name: str) -> None:
        self.active = name
        try:
            self.highlighted = self.get_option_index(name)
        except Exception:  # a screen without a menu item (e.g. help) keeps the last one
            pass

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id and not event.option_id.startswith("group:"):
            backoffice(self).navigate(event.option_id)
