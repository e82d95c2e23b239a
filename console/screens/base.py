"""The base of every console screen: banners, header, side menu, content, footer.

A screen subclasses `BackofficeScreen`, sets `NAME` (its registry name),
`TITLE_KEY` (translation key of its title), optionally `MENU_ITEM` (the side
menu item to highlight, e.g. an account detail highlights "accounts") and
`KEY_SCOPES` (scopes of console/keys.py whose keys it handles), and yields its
widgets from `compose_content()`. Keys come from console/keys.py only.
Navigation parameters arrive as `self.params` (constructor keywords for a
detail screen; `apply_params` then `params_changed()` for a section screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from console import keys
from console.app_access import backoffice
from console.i18n import t
from console.widgets.banners import BannerStrip
from console.widgets.footer import KeyFooter
from console.widgets.header import AppHeader
from console.widgets.side_menu import SideMenu

if TYPE_CHECKING:
    from console.app import BackofficeApp


class BackofficeScreen(Screen[None]):
    NAME: ClassVar[str] = ""
    TITLE_KEY: ClassVar[str] = ""
    MENU_ITEM: ClassVar[str | None] = None
    KEY_SCOPES: ClassVar[tuple[str, ...]] = ()
    # Focus the content, not the banners or the menu, when the screen opens.
    AUTO_FOCUS = "#content *"

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params
        keys.bind_scopes(self, *self.KEY_SCOPES)

    @property
    def backoffice(self) -> BackofficeApp:
        return backoffice(self)

    def screen_title(self) -> str:
        return t(self.TITLE_KEY) if self.TITLE_KEY else ""

    def compose(self) -> ComposeResult:
        yield BannerStrip(id="banners")
        yield AppHeader(self.screen_title())
        with Horizontal(id="body"):
            yield SideMenu(self.MENU_ITEM or self.NAME)
            with Vertical(id="content"):
                yield from self.compose_content()
        yield KeyFooter()

    def compose_content(self) -> ComposeResult:
        yield from ()

    def apply_params(self, **params: Any) -> None:
        """`app.navigate(NAME, **params)` reaching a section screen that already
        exists: keep the parameters and, once mounted, react in `params_changed`.
        A screen reads `self.params` when it mounts, so both paths agree."""
        self.params = params
        if self.is_mounted:
            self.params_changed()

    def params_changed(self) -> None:
        """Override to apply new `self.params` (e.g. a filter) to a mounted screen."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if keys.is_admin_action(action) and not self.backoffice.can_admin:
            return False
        return True

    def offers(self, action: str) -> bool:
        """Whether the footer and the palette offer an action the screen
        binds. A key not offered still answers, saying why it cannot act."""
        return True

    def on_screen_resume(self) -> None:
        self.sub_title = self.screen_title()
        self.app.sub_title = self.screen_title()
