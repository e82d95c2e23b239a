"""Every bindable action of the console, declared once.

The app and each screen build their Textual bindings from here (`bindings()`),
the help screen lists these entries, and the command palette offers them, so a
key, its action and its description can never disagree between the three.

A screen opts into a scope with `KEY_SCOPES = ("list",)`; the "global" scope is
bound on the app and works everywhere. Descriptions are translation keys
(translations/*/keys.json), translated when the bindings are built, after the
locale is chosen. Admin entries are bound only for admins outside kiosk mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from console.i18n import t


@dataclass(frozen=True)
class Key:
    scope: str  # "global", "dashboard", "list", "period", "account", ...
    key: str  # Textual key name(s), comma-separated for alternatives
    action: str  # Textual action string, run on the node the scope is bound to
    description: str  # translation key
    show: bool = True  # shown in the footer
    key_display: str | None = None
    priority: bool = False
    admin: bool = False
    palette: bool = True  # offered in the command palette


KEYS: tuple[Key, ...] = (
    # Everywhere (contract section 5).
    Key("global", "d", "navigate('dashboard')", "keys.go_dashboard"),
    Key("global", "a", "navigate('accounts')", "keys.go_accounts"),
    Key("global", "u", "navigate('users')", "keys.go_users"),
    Key("global", "b", "navigate('billing_events')", "keys.go_billing_events"),
    Key("global", "i", "navigate('invoices')", "keys.go_invoices"),
    Key("global", "escape", "back", "keys.back", key_display="esc"),
    # Kiosk mode is turned on from the operator menu or --kiosk; leaving it
    # asks first, and a kiosk started with --kiosk cannot be left (console/app.py).
    Key("global", "ctrl+k", "leave_kiosk", "keys.leave_kiosk", show=False, palette=False),
    Key("global", "o", "operator_menu", "keys.operator_menu", show=False),
    # The side menu folds to a rail of its keys (by itself below 100 columns).
    Key("global", "ctrl+b", "toggle_menu", "keys.toggle_menu", show=False),
    Key("global", "ctrl+p", "command_palette", "keys.command_palette", show=False, priority=True, palette=False),
    Key("global", "question_mark", "help", "keys.help", key_display="?"),
    Key("global", "q", "quit_unless_kiosk", "keys.quit"),
    # Screens with a period (dashboard, billing events).
    Key("period", "p", "cycle_period", "keys.cycle_period"),
    Key("dashboard", "r", "refresh", "keys.refresh", show=False),
    # Lists (accounts, users, billing events, invoices).
    Key("list", "slash", "focus_search", "keys.focus_search", key_display="/"),
    Key("list", "f", "open_filters", "keys.open_filters"),
    Key("list", "enter", "open_selected", "keys.open_selected", show=False, palette=False),
    Key("list", "pageup", "previous_page", "keys.previous_page", show=False, palette=False, key_display="pgup"),
    Key("list", "pagedown", "next_page", "keys.next_page", show=False, palette=False, key_display="pgdn"),
    Key("list", "c", "clear_filters", "keys.clear_filters", show=False),
    # The accounts list's sort (a header click sorts too).
    Key("accounts", "o", "cycle_sort", "keys.cycle_sort"),
    Key("accounts", "O", "reverse_sort", "keys.reverse_sort", show=False),
    Key("accounts", "space", "toggle_pane", "keys.toggle_pane", show=False, key_display="space"),
    # Lists with view presets (billing events, invoices).
    Key("views", "v", "cycle_view", "keys.cycle_view"),
    # Detail screens with tabs (account, user).
    Key("tabs", "1", "tab(1)", "keys.tab_1", show=False),
    Key("tabs", "2", "tab(2)", "keys.tab_2", show=False),
    Key("tabs", "3", "tab(3)", "keys.tab_3", show=False),
    Key("tabs", "4", "tab(4)", "keys.tab_4", show=False),
    # An account (admin actions, contract section 5).
    Key("account", "s", "sync", "keys.sync", admin=True),
    Key("account", "A", "acknowledge_drift", "keys.acknowledge_drift", admin=True),
    Key("account", "R", "replay_archived", "keys.replay_archived", admin=True),
    Key("account", "m", "account_actions", "keys.account_actions", admin=True),
)

SCOPE_ORDER = ("global", "period", "dashboard", "list", "accounts", "views", "tabs", "account")


def keys_in(scope: str, *, admin: bool = True) -> list[Key]:
    return [entry for entry in KEYS if entry.scope == scope and (admin or not entry.admin)]


def binding(entry: Key) -> Binding:
    return Binding(
        entry.key,
        entry.action,
        t(entry.description),
        show=entry.show,
        key_display=entry.key_display,
        priority=entry.priority,
        id=f"{entry.scope}.{entry.action}",
    )


def bindings(*scopes: str, admin: bool = True) -> list[Binding]:
    """Translated Textual bindings of the given scopes."""
    return [binding(entry) for scope in scopes for entry in keys_in(scope, admin=admin)]


def is_admin_action(action: str) -> bool:
    return action in _ADMIN_ACTIONS


_ADMIN_ACTIONS = frozenset(entry.action for entry in KEYS if entry.admin)


def display(entry: Key) -> str:
    """How the help screen writes a key: "?" rather than "question_mark"."""
    return entry.key_display or entry.key
