"""The side menu's "Coming soon" group: Feature flags,
Support and Wait list open a screen that says so."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Static

from console.i18n import t
from console.screens.base import BackofficeScreen


class ComingSoonScreen(BackofficeScreen):
    def screen_title(self) -> str:
        return t("coming_soon.title", name=t(self.TITLE_KEY))

    def compose_content(self) -> ComposeResult:
        name = t(self.TITLE_KEY)
        with Middle(), Center():
            yield Static(
                f"[b]{escape(self.screen_title())}[/b]\n\n{escape(t('coming_soon.body', name=name))}",
                id="coming-soon",
                classes="notice",
            )


class FeatureFlagsScreen(ComingSoonScreen):
    NAME = "feature_flags"
    TITLE_KEY = "menu.feature_flags"


class SupportScreen(ComingSoonScreen):
    NAME = "support"
    TITLE_KEY = "menu.support"


class WaitListScreen(ComingSoonScreen):
    NAME = "wait_list"
    TITLE_KEY = "menu.wait_list"
