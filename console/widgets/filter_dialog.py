"""The filters of a list (`f`): one multi-select per filter, applied as they
are toggled (space or enter), so the list behind updates while the dialog is
open. `c` clears every filter; escape closes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList
from textual.widgets.selection_list import Selection

from console.i18n import t


@dataclass(frozen=True)
class FilterGroup:
    key: str  # e.g. "plans"
    label: str  # shown above the choices
    options: Sequence[tuple[str, str]]  # (value, label)
    selected: frozenset[str] = field(default_factory=frozenset)


class FilterSelection(SelectionList[str]):
    def __init__(self, group: FilterGroup) -> None:
        super().__init__(
            *(Selection(label, value, value in group.selected) for value, label in group.options),
            id=f"filter-{group.key}",
            classes="filter-group",
        )
        self.group_key = group.key
        self.border_title = group.label

    def on_mount(self) -> None:
        self.highlighted = 0  # space toggles the first choice straight away


class FilterDialog(ModalScreen[None]):
    AUTO_FOCUS = "FilterSelection"
    BINDINGS = [
        Binding("escape,f", "dismiss", t("list.filters_close"), show=False),
        Binding("c", "clear", t("list.clear_filters"), show=False),
    ]

    def __init__(
        self,
        title: str,
        groups: Sequence[FilterGroup],
        on_change: Callable[[str, frozenset[str]], None],
        on_clear: Callable[[], None],
    ) -> None:
        super().__init__(classes="backoffice-dialog")
        self.dialog_title = title
        self.groups = groups
        self.on_change = on_change
        self.on_clear = on_clear

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="filter-dialog", classes="dialog") as dialog:
            dialog.border_title = self.dialog_title
            dialog.border_subtitle = t("list.filters_hint")
            for group in self.groups:
                yield FilterSelection(group)
            yield Label(t("list.filters_help"), classes="dialog-hint")

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        selection = event.selection_list
        if isinstance(selection, FilterSelection):
            self.on_change(selection.group_key, frozenset(selection.selected))

    def action_clear(self) -> None:
        for selection in self.query(FilterSelection):
            with selection.prevent(SelectionList.SelectedChanged):
                selection.deselect_all()
        self.on_clear()
