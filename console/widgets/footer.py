"""The footer: `esc`, `?` and `q` always, then the screen's keys while they fit.

Textual's footer lists keys in binding-chain order (the focused widget's first,
the app's last) and cuts the row at the terminal's edge, so on a busy screen
the way out was the first thing to go. Here the order is console/keys.py's
`footer_rank`, and only whole keys show; the rest are in `?` and the palette.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from console import keys

KEY_GAP = 2  # the space between a key and its description, and the margin after it
PALETTE_EDGE = 2  # the palette hint's left border and the space before its text


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True)
        self._composed_width = 0

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        shown: dict[str, tuple[Binding, bool, str]] = {}
        offers = getattr(self.screen, "offers", None)
        for _, binding, enabled, tooltip in active.values():
            if offers is not None and not offers(binding.action):
                continue
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled, tooltip)
        room = self.app.size.width
        self._composed_width = room
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE else None
        if palette is not None:
            room -= self._width(palette.binding) + PALETTE_EDGE
        for binding, enabled, tooltip in sorted(shown.values(), key=lambda item: keys.footer_rank(item[0].id)):
            room -= self._width(binding)
            if room < 0:
                break
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if palette is not None:
            yield FooterKey(
                palette.binding.key,
                self.app.get_key_display(palette.binding),
                palette.binding.description,
                palette.binding.action,
                classes="-command-palette",
                disabled=not palette.enabled,
                tooltip=palette.binding.tooltip or palette.binding.description,
            )

    def _width(self, binding: Binding) -> int:
        return cell_len(self.app.get_key_display(binding)) + cell_len(binding.description) + KEY_GAP

    def on_resize(self) -> None:
        # Which keys fit depends on the width: lay them out again when it changes.
        if self._bindings_ready and self.app.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
