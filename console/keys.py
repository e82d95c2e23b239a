"""Every bindable action of the console, declared once.

The app and each screen build their Textual bindings from here (`bindings()`),
the help screen lists these entries, and the command palette offers them, so a
key, its action and its description can never disagree between the three.

A screen opts into a scope with `KEY_SCOPES = ("list",)`; the "global" scope is
bound on the app and works everywhere. Widgets that move (the list table, the
scroll areas) bind the "scroll" and "rows" scopes on themselves, so those keys
act on whatever has focus (and are not in the palette). The footer shows the
`show` keys in `footer_rank` order as far as they fit (console/widgets/footer.py).
Descriptions are translation keys (translations/*/keys.json), translated when
the bindings are built, after the locale is chosen. Admin entries are bound
only for admins outside kiosk mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

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
    footer: str | None = None  # translation key of a shorter label for the footer


KEYS: tuple[Key, ...] = (
    # Everywhere (docs/rules.md R99).
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
    # Every list table and scroll area (bound on the widget; arrows, home/end
    # and page keys work too).
    Key("scroll", "j", "line(1)", "keys.line_down", show=False, palette=False),
    Key("scroll", "k", "line(-1)", "keys.line_up", show=False, palette=False),
    Key("scroll", "g", "first", "keys.first_row", show=False, palette=False),
    Key("scroll", "G", "last", "keys.last_row", show=False, palette=False),
    Key("scroll", "ctrl+d", "half_page(1)", "keys.half_page_down", show=False, palette=False),
    Key("scroll", "ctrl+u", "half_page(-1)", "keys.half_page_up", show=False, palette=False),
    # The row under a list's cursor (bound on the table), copied with OSC 52.
    Key("rows", "y", "copy_id", "keys.copy_id", show=False, palette=False),
    Key("rows", "Y", "copy_contact", "keys.copy_contact", show=False, palette=False),
    # A focused dashboard chart (bound on its card; Tab focuses it): a cursor
    # over the days or bars, read out under the chart, and the figures as a
    # table (docs/rules.md R130).
    Key("chart", "left,h", "chart_move(-1)", "keys.chart_previous", show=False, palette=False, key_display="← h"),
    Key("chart", "right,l", "chart_move(1)", "keys.chart_next", show=False, palette=False, key_display="→ l"),
    Key("chart", "home", "chart_first", "keys.chart_first", show=False, palette=False),
    Key("chart", "end", "chart_last", "keys.chart_last", show=False, palette=False),
    Key("chart", "t", "toggle_table", "keys.toggle_table", palette=False, footer="keys.toggle_table_short"),
    # Lists (accounts, users, billing events, invoices).
    Key("list", "slash", "focus_search", "keys.focus_search", key_display="/"),
    Key("list", "f", "open_filters", "keys.open_filters"),
    Key("list", "enter", "open_selected", "keys.open_selected", show=False, palette=False),
    Key("list", "pageup", "previous_page", "keys.previous_page", show=False, palette=False, key_display="pgup"),
    Key("list", "pagedown", "next_page", "keys.next_page", show=False, palette=False, key_display="pgdn"),
    Key("list", "c", "clear_filters", "keys.clear_filters", show=False),
    # Lists whose query sorts (accounts, invoices); a header click sorts too.
    Key("sort", "greater_than_sign", "next_sort", "keys.next_sort", key_display=">", footer="keys.next_sort_short"),
    Key("sort", "less_than_sign", "previous_sort", "keys.previous_sort", show=False, key_display="<"),
    Key("sort", "I", "invert_sort", "keys.invert_sort", footer="keys.invert_sort_short"),
    Key("accounts", "space", "toggle_pane", "keys.toggle_pane", show=False, key_display="space"),
    # Lists with view presets (billing events, invoices).
    Key("views", "v", "cycle_view", "keys.cycle_view"),
    # Every list, bound on the list widget (docs/rules.md R143): the list as
    # queried, every page, to a CSV file; after the screens' own keys in the footer.
    Key("export", "e", "export", "keys.export", palette=False, footer="keys.export_short"),
    # Detail screens with tabs (account, user).
    Key("tabs", "1", "tab(1)", "keys.tab_1", show=False),
    Key("tabs", "2", "tab(2)", "keys.tab_2", show=False),
    Key("tabs", "3", "tab(3)", "keys.tab_3", show=False),
    Key("tabs", "4", "tab(4)", "keys.tab_4", show=False),
    Key("tabs", "5", "tab(5)", "keys.tab_5", show=False),
    # An account (admin actions, docs/rules.md R99, R103).
    Key("account", "s", "sync", "keys.sync", admin=True),
    Key("account", "A", "acknowledge_drift", "keys.acknowledge_drift", admin=True),
    Key("account", "R", "replay_archived", "keys.replay_archived", admin=True),
    Key("account", "m", "account_actions", "keys.account_actions", admin=True),
    # Any operator: the Stripe customer's dashboard link, copied with OSC 52 (docs/rules.md R120).
    Key("account", "L", "copy_stripe_link", "keys.copy_stripe_link", show=False),
)

SCOPE_ORDER = (
    "global",
    "period",
    "dashboard",
    "chart",
    "list",
    "export",
    "scroll",
    "rows",
    "sort",
    "accounts",
    "views",
    "tabs",
    "account",
)
# Never pushed out of the footer by a screen's keys.
ESSENTIAL_ACTIONS = ("back", "help", "quit_unless_kiosk")


def keys_in(scope: str, *, admin: bool = True) -> list[Key]:
    return [entry for entry in KEYS if entry.scope == scope and (admin or not entry.admin)]


def binding(entry: Key) -> Binding:
    return Binding(
        entry.key,
        entry.action,
        t(entry.footer or entry.description),
        show=entry.show,
        tooltip=t(entry.description) if entry.footer else "",
        key_display=entry.key_display,
        priority=entry.priority,
        id=f"{entry.scope}.{entry.action}",
    )


def bindings(*scopes: str, admin: bool = True) -> list[Binding]:
    """Translated Textual bindings of the given scopes."""
    return [binding(entry) for scope in scopes for entry in keys_in(scope, admin=admin)]


def bind_scopes(node: DOMNode, *scopes: str) -> None:
    """Add the scopes' bindings to a node. Built per instance, not in BINDINGS,
    so their descriptions are translated into the locale chosen at start."""
    node._bindings = BindingsMap([*(b for _, b in node._bindings), *bindings(*scopes)])


def retranslate(node: DOMNode) -> None:
    """After a language switch (console/relocalize.py): the node's bindings of
    these keys described again, in the new language."""
    node._bindings = BindingsMap([_retranslated(b) for _, b in node._bindings])


def _retranslated(current: Binding) -> Binding:
    entry = _BY_ID.get(current.id or "")
    if entry is None:
        return current
    return replace(
        current,
        description=t(entry.footer or entry.description),
        tooltip=t(entry.description) if entry.footer else "",
    )


def is_admin_action(action: str) -> bool:
    return action in _ADMIN_ACTIONS


_ADMIN_ACTIONS = frozenset(entry.action for entry in KEYS if entry.admin)


def footer_rank(binding_id: str | None) -> tuple[int, int]:
    """Where a footer key goes: the essentials, then the screen's own keys,
    then its admin keys, then the other global ones (navigation, which the
    side menu shows too), each in declaration order."""
    entry = _BY_ID.get(binding_id or "")
    if entry is None:
        return (4, 0)
    index = KEYS.index(entry)
    if entry.scope == "global":
        return (0 if entry.action in ESSENTIAL_ACTIONS else 3, index)
    return (2 if entry.admin else 1, index)


_BY_ID = {f"{entry.scope}.{entry.action}": entry for entry in KEYS}


def display(entry: Key) -> str:
    """How the help screen writes a key: "?" rather than "question_mark"."""
    return entry.key_display or entry.key
