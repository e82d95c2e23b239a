"""The side menu (decisions.md): Dashboard, Accounts, Users; Billing: Invoices,
Billing events; Coming soon: Feature flags, Support, Wait list."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

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


class SideMenu(OptionList):
    """Selecting an item opens its screen; the active screen's item is highlighted."""

    def __init__(self, active: str) -> None:
        options: list[Option | None] = []
        for group_key, items in MENU:
            if options:
                options.append(None)
            options.append(Option(Text(t(group_key), style="bold"), id=f"group:{group_key}", disabled=True))
            for name, label_key, key_hint in items:
                options.append(Option(_item(t(label_key), key_hint), id=name))
        super().__init__(*options, id="side-menu")
        self.active = active
        self.border_title = t("menu.label")

    def on_mount(self) -> None:
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
            self.app.navigate(event.option_id)  # type: ignore[attr-defined]
